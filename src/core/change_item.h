#pragma once

#include "core/lsn.h"
#include "core/mutation.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rep {

// What a source reader hands to the apply loop, in source commit order. A source transaction
// arrives as kBegin, any number of kChanges / kTruncate items (each at most --flushSize rows,
// so a huge transaction is never held whole), then kCommit. kKeepalive says that the source
// has nothing more before `lsn`: once everything ahead of it is applied, the source may
// forget WAL up to `lsn` even though no transaction ended there.
struct ChangeItem {
    enum class Kind : uint8_t { kBegin, kChanges, kTruncate, kCommit, kKeepalive };

    Kind kind = Kind::kChanges;
    uint32_t xid = 0;
    // kCommit: the end of the commit record (the position to resume after).
    // kKeepalive: the source's WAL end. kBegin: the commit record's start.
    Lsn lsn;
    // kBegin/kCommit: source commit time, microseconds since the Unix epoch.
    int64_t commit_time_us = 0;
    // kCommit: the checkpoint text stored in the memo table once this transaction is applied
    // (a GTID set for MySQL). Empty: the LSN text, as pglogical stores it.
    std::string checkpoint;
    std::vector<Mutation> mutations;  // kChanges
    Truncate truncate;                // kTruncate

    // Queue accounting: one unit per row change, one for a control item.
    size_t weight() const { return mutations.empty() ? 1 : mutations.size(); }
};

}  // namespace rep
