#pragma once

#include "core/position.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rep::staging {

// Exactly-once checkpoints for parallel apply (docs/staging.md §4.3).
//
// With several target connections, source transactions commit on the target out of source
// order, so one position no longer describes what is applied. Each worker therefore writes,
// in the same target transaction as its data, a record of its own:
//
//   prefix: a position P such that every source transaction ending at or before P was
//           committed (or needed nothing) when the record was written;
//   ranges: the identities [lo, hi] (kBegin ordinals) of the first and last transaction of
//           every group this worker committed that ends beyond P, including the group the
//           record is committed with.
//
// A group is a run of consecutive source transactions, so "lo <= identity <= hi" means the
// transaction was part of that committed group. Recovery takes the largest prefix of all
// records and the union of their ranges beyond it: every range a worker ever committed beyond
// that prefix is listed in the worker's latest record (it lists all its groups beyond the
// prefix it knew, and that prefix is no larger than the recovered one).
//
// Records hold ordinals only, so they need a source whose ordinals name the same position in
// every run (PositionCodec::stable_ordinals: PostgreSQL's LSNs); the codec spells them, and
// its spelling must contain neither a space nor a '-'. For PostgreSQL a transaction's
// identity is the LSN of its commit record (pgoutput's BEGIN final_lsn), known from the first
// message, and the prefix is a commit record's END LSN, like the plain memo.
struct WorkerRecord {
    Ordinal prefix;
    std::vector<OrdinalRange> ranges;
    friend bool operator==(const WorkerRecord&, const WorkerRecord&) = default;
};

// "prefix 0/16B3748 applied 0/16B4000-0/16B5000 0/16B6000-0/16B6000" (PostgreSQL).
std::string encode_record(const WorkerRecord& record, const PositionCodec& codec);
// Throws rep::Error (fatal) naming `key` when the text is not a record.
WorkerRecord decode_record(std::string_view text, const std::string& key,
                           const PositionCodec& codec);

// Memo keys next to the plain checkpoint key `main`.
std::string worker_record_key(const std::string& main, size_t worker);  // main + "#w<N>"
std::string carried_record_key(const std::string& main);                // main + "#carried"
std::string record_key_prefix(const std::string& main);                 // main + "#"

// What the memo says is applied.
class AppliedSet {
public:
    AppliedSet() = default;
    // `main` is the plain checkpoint's ordinal if any; records are all "#..." rows of the key.
    static AppliedSet recover(std::optional<Ordinal> main,
                              const std::vector<WorkerRecord>& records);

    // Every source transaction ending at or before this is applied.
    Ordinal prefix() const { return prefix_; }
    // Committed groups beyond the prefix, sorted and merged.
    const std::vector<OrdinalRange>& ranges() const { return ranges_; }
    // Whether the transaction with this identity (its kBegin ordinal) is already applied
    // (beyond the prefix; the source does not send what is before it).
    bool contains(Ordinal transaction) const;
    bool empty() const { return ranges_.empty(); }
    // The record that carries these ranges across a restart.
    WorkerRecord as_record() const { return {prefix_, ranges_}; }

private:
    Ordinal prefix_;
    std::vector<OrdinalRange> ranges_;
};

}  // namespace rep::staging
