#pragma once

#include "core/lsn.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rep {

// Exactly-once checkpoints for parallel apply (docs/staging.md §4.2).
//
// With several target connections, source transactions commit on the target out of source
// order, so one LSN no longer describes what is applied. Each worker therefore writes, in the
// same target transaction as its data, a record of its own:
//
//   prefix: an LSN P such that every source transaction ending at or before P was committed
//           (or needed nothing) when the record was written;
//   ranges: the commit LSNs [lo, hi] of every group this worker committed that ends beyond P,
//           including the group the record is committed with.
//
// A group is a run of consecutive source transactions, so "lo <= commit LSN <= hi" means the
// transaction was part of that committed group. Recovery takes the largest prefix of all
// records and the union of their ranges beyond it: every range a worker ever committed beyond
// that prefix is listed in the worker's latest record (it lists all its groups beyond the
// prefix it knew, and that prefix is no larger than the recovered one).
//
// Transactions are identified by the LSN of their commit record (pgoutput's BEGIN final_lsn),
// known from the first message; the prefix is in commit-record END LSNs, like the plain memo.
struct LsnRange {
    Lsn lo;
    Lsn hi;
    friend bool operator==(const LsnRange&, const LsnRange&) = default;
};

struct WorkerRecord {
    Lsn prefix;
    std::vector<LsnRange> ranges;
    friend bool operator==(const WorkerRecord&, const WorkerRecord&) = default;
};

// "prefix 0/16B3748 applied 0/16B4000-0/16B5000 0/16B6000-0/16B6000"
std::string encode_record(const WorkerRecord& record);
// Throws rep::Error (fatal) naming `key` when the text is not a record.
WorkerRecord decode_record(std::string_view text, const std::string& key);

// Memo keys next to the plain checkpoint key `main`.
std::string worker_record_key(const std::string& main, size_t worker);  // main + "#w<N>"
std::string carried_record_key(const std::string& main);                // main + "#carried"
std::string record_key_prefix(const std::string& main);                 // main + "#"

// What the memo says is applied.
class AppliedSet {
public:
    AppliedSet() = default;
    // `main` is the plain checkpoint LSN if any; records are all "#..." rows of the key.
    static AppliedSet recover(std::optional<Lsn> main, const std::vector<WorkerRecord>& records);

    // Every source transaction ending at or before this is applied.
    Lsn prefix() const { return prefix_; }
    // Committed groups beyond the prefix, sorted and merged.
    const std::vector<LsnRange>& ranges() const { return ranges_; }
    // Whether the transaction whose commit record is at `commit_lsn` is already applied
    // (beyond the prefix; the source does not send what is before it).
    bool contains(Lsn commit_lsn) const;
    bool empty() const { return ranges_.empty(); }
    // The record that carries these ranges across a restart.
    WorkerRecord as_record() const { return {prefix_, ranges_}; }

private:
    Lsn prefix_;
    std::vector<LsnRange> ranges_;
};

}  // namespace rep
