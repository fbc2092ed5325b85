#pragma once

#include "core/change_item.h"
#include "sequencer/group_applier.h"
#include "util/retry.h"

#include <vector>

namespace rep::sequencer {

// What a worker does with the items of its groups: applies them through a GroupApplier,
// keeping each group's items in memory (up to 50 000 row changes, and 32 MiB of values once
// past an ordinary group's rows) so that a failure can be handled without going back to the
// source:
//  - a retryable error rolls the group back and replays it after backoff (--maxRetries,
//    --retry*Backoff, --retryMultiplier), but never while a COMMIT may have landed: then the
//    checkpoint written with it is read first;
//  - a fatal error replays the group in strict source order, one source transaction at a
//    time (salvage): if that works the error came from folding and the group goes on;
//    otherwise the transactions before the failing one are committed and the failing one's
//    error is thrown, naming it exactly.
// A group too large to keep is not replayed here: its retryable error is thrown, and the
// pipeline restarts from the source. Not thread-safe: one per apply worker.
class RetryingApplier {
public:
    // `collapse` is --collapseMutations, restored after a strict-order salvage. A group of at
    // most `ordinary_rows` row changes (kKeptGroupGrowth x --flushSize) is kept whatever its
    // size in bytes; beyond, the 32 MiB bound applies too.
    RetryingApplier(GroupApplier& applier, util::RetryPolicy retry, bool collapse,
                    size_t ordinary_rows = 4000)
        : applier_(applier), retry_(retry), collapse_(collapse), ordinary_rows_(ordinary_rows) {}

    // One item of the current group. Throws rep::Error.
    void apply(ChangeItem item);
    // The dispatcher's end of the group: commits it. Throws rep::Error.
    void end_group();
    // The run ends with the group unfinished: rolls it back (the source sends it again).
    void abandon();

private:
    // Handles the error of an attempt at the current group, then finishes what the attempt
    // was doing (with `ending`, the group's commit).
    void recover(const Error& e);
    void retry(const Error& first);
    void salvage(const Error& original);
    void replay();  // the logged items, and the commit if the group has ended
    void clear();

    GroupApplier& applier_;
    util::RetryPolicy retry_;
    bool collapse_;
    size_t ordinary_rows_;
    std::vector<ChangeItem> log_;  // the group's items, for replay
    size_t logged_rows_ = 0;
    size_t logged_bytes_ = 0;
    bool log_complete_ = true;
    bool ending_ = false;  // end_group() was called for this group
};

}  // namespace rep::sequencer
