#pragma once

#include "core/change_item.h"
#include "sequencer/group_applier.h"
#include "util/retry.h"

#include <deque>
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
// pipeline restarts from the source.
//
// A group whose COMMIT went out unanswered (GroupApplier's chaining) keeps its items until the
// answer is read. If that answer, or the one of the group chained behind it, is a failure,
// the groups that did not land are applied again one at a time, unchained, each through the
// handling above, and then the open group. Not thread-safe: one per apply worker.
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
    // The dispatcher's end of the group: commits it. With `next_at_hand` (the next group's
    // items are queued already) the COMMIT may go out unanswered, for the next group to be
    // chained behind it. Throws rep::Error.
    void end_group(bool next_at_hand = false);
    // Reads the answers of the groups whose COMMIT went out unanswered (before waiting for
    // more work). Throws rep::Error.
    void settle();
    size_t unanswered() const { return applier_.unanswered(); }
    // The run ends with the group unfinished: rolls it back (the source sends it again).
    void abandon();

private:
    // Handles the error of an attempt at the current group, then finishes what the attempt
    // was doing (with `ending`, the group's commit).
    void recover(const Error& e);
    // recover() for a failure read in a group that went out unanswered.
    void recover_chain(const Error& e);
    // Forgets the logs of groups whose answers were read.
    void drop_answered();
    void retry(const Error& first);
    void salvage(const Error& original);
    // After a failure with a COMMIT sent (GroupApplier::in_doubt): whether it landed after all,
    // read from the checkpoint. Throws a retryable error (the pipeline restarts from the
    // checkpoint) when it cannot be told and `e` would otherwise be salvaged.
    bool landed_after_all(const Error& e);
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
    // The items of the groups whose COMMIT went out unanswered, oldest first.
    std::deque<std::vector<ChangeItem>> sent_logs_;
    bool may_defer_ = true;  // not while groups are applied again after a failure
};

}  // namespace rep::sequencer
