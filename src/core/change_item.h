#pragma once

#include "core/mutation.h"
#include "core/position.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rep {

// What a source hands to the apply side, in source commit order. A source transaction
// arrives as kBegin, any number of kChanges / kTruncate items (each at most --flushSize rows,
// so a huge transaction is never held whole), then kCommit. kKeepalive says that the source
// has nothing more before its position: once everything ahead of it is applied, the source
// may forget its log up to there even though no transaction ended there.
struct ChangeItem {
    enum class Kind : uint8_t { kBegin, kChanges, kTruncate, kCommit, kKeepalive };

    Kind kind = Kind::kChanges;
    uint32_t xid = 0;
    // kBegin: the transaction's identity. Its ordinal orders the transaction among commits
    // and is what parallel checkpoint records list (PostgreSQL: the commit record's LSN); its
    // text names it where the ordinal does not (a GTID).
    // kCommit: where the source stands once this transaction is applied; the text is the
    // checkpoint stored in the memo table.
    // kKeepalive: nothing before this position is still to come.
    Position position;
    // kBegin/kCommit: source commit time, microseconds since the Unix epoch.
    int64_t commit_time_us = 0;
    std::vector<Mutation> mutations;  // kChanges
    Truncate truncate;                // kTruncate

    // approx_bytes(), as counted by whoever filled `mutations` while the rows were at hand
    // (the TransactionEmitter, the row stage's thread), so that the queue's and the apply
    // window's byte bounds need no second pass over the values on another core.
    size_t bytes = 0;

    // Queue accounting: one unit per row change, one for a control item.
    size_t weight() const { return mutations.empty() ? 1 : mutations.size(); }
    // What one row change holds in memory, roughly (values, old values and their headers).
    static size_t bytes_of(const Mutation& m) {
        size_t total = sizeof(Mutation) + (m.values.size() + m.old_values.size()) * sizeof(Datum);
        for (const Datum& d : m.values) {
            total += d.text.size();
        }
        for (const Datum& d : m.old_values) {
            total += d.text.size();
        }
        return total;
    }
    // What its row changes hold in memory, roughly.
    size_t approx_bytes() const {
        size_t total = 0;
        for (const Mutation& m : mutations) {
            total += bytes_of(m);
        }
        return total;
    }
};

}  // namespace rep
