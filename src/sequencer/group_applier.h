#pragma once

#include "core/change_item.h"
#include "sequencer/apply_context.h"
#include "sequencer/batch_builder.h"
#include "sequencer/group_writer.h"
#include "sequencer/schedule.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rep::sequencer {

// A group as committed: the identities of its first and last source transaction, and where
// the source stands after its last.
struct GroupSpan {
    OrdinalRange txns;
    Position end;
};

// How a worker checkpoints the groups it commits (the worker in apply_worker.h implements it
// with the Schedule and a Checkpointer; tests with a fake).
class CommitHooks {
public:
    virtual ~CommitHooks() = default;
    // Before COMMIT: waits up to `timeout` until every group dispatched before this one has
    // committed, or (`own_ahead` > 0) is one of the worker's own `own_ahead` groups sent
    // before it on this connection (Schedule::await_turn).
    virtual Schedule::Turn await_turn(std::chrono::milliseconds timeout, size_t own_ahead) = 0;
    // Whether a COMMIT may go out unanswered with the next group chained behind it on the
    // connection: commits come in source order and the plain memo row written with each
    // group names its end, so the next can check it (PlainCheckpointer, memo in the target).
    virtual bool chains() const = 0;
    // The memo rows (key, value) to upsert in the target transaction, just before COMMIT.
    virtual std::vector<std::pair<std::string, std::string>> memo_rows(const GroupSpan& span) = 0;
    // After COMMIT, or instead of it when the group wrote nothing. `span` may end before the
    // group does, when a failing transaction was cut off (salvage).
    virtual void committed(const GroupSpan& span) = 0;
    // After a COMMIT whose outcome is in doubt: whether the rows written with it show that
    // the group committed (false when nothing can tell). Throws rep::Error if the target
    // cannot be read.
    virtual bool landed(util::TargetSession& session, const GroupSpan& span) = 0;
};

// Applies the source transactions of one group at a time as one target transaction.
//
// Items arrive in source order: kBegin, kChanges, kTruncate, kCommit (never a keepalive; the
// dispatcher keeps those). Row changes go into the BatchBuilder and are written in
// --flushSize pieces when a transaction is large or the group holds twice that (a group of
// small transactions is then written in one round trip, with its checkpoint and COMMIT);
// commit() ends the group. With ordered commits, a group whose turn has not come writes its
// rows at once, so they execute while earlier groups commit on other connections, and sends
// COMMIT when they have; if that takes longer than kTurnPatience it gives way (gave_way()).
// Chaining (docs/architecture.md §2.8): with commit(may_defer), a COMMIT may go out with its
// answer unread, and the next group's whole pipeline (BEGIN, fence, a guard that fails unless
// the previous group's checkpoint row is in place, rows, checkpoint, COMMIT) is sent behind it
// before that answer is read, so the target executes them back to back and the round trip is
// hidden. Answers are read (settle) before anything else is sent. A failure in a group whose
// answer was read late is not handled in place: settle_failed() is set, and recover_chain()
// says which of those groups landed, for RetryingApplier to apply the others again.
// This class does not retry: a failure leaves the group for RetryingApplier to roll back and
// replay. Not thread-safe: one per apply worker.
class GroupApplier {
public:
    GroupApplier(const ApplyContext& context, util::TargetSession& session, CommitHooks& hooks);

    // One item of the group. Throws rep::Error.
    void apply(const ChangeItem& item);
    // Writes what is pending (in strict-order replays, after each transaction).
    void flush();
    // Commits the group with its checkpoint and reports it to the hooks; a group that wrote
    // nothing is reported as committed all the same. With `may_defer` (the next group is at
    // hand) and hooks that chain, the COMMIT may be left unanswered (unanswered() grows), and
    // it is reported once its answer is read. Throws rep::Error.
    void commit(bool may_defer = false);
    // Groups whose COMMIT went out and whose answer is not read yet (at most two).
    size_t unanswered() const { return unanswered_.size(); }
    // Reads the answers of the unanswered groups and reports them committed. Throws rep::Error,
    // and then settle_failed() is true.
    void settle();
    bool settle_failed() const { return settle_failed_; }
    // After settle_failed(): ends what the session holds (the open group too), tells from the
    // checkpoint row which unanswered groups landed (the first `n`, reported committed), and
    // forgets the rest: returns n. Throws rep::Error if the target cannot tell.
    size_t recover_chain();
    // After a retryable error: whether a COMMIT whose outcome was in doubt landed after all.
    // Then the group is done (and reported to the hooks). False when it did not land or
    // cannot be told yet.
    bool commit_landed();
    // Forgets the group: rolls back the target transaction and drops what was pending.
    void rollback();
    // Waits, holding nothing on the target, until every group dispatched before this one has
    // committed. Throws rep::Error if another worker failed meanwhile.
    void wait_turn();
    // The last commit() waited for its turn longer than kTurnPatience with its rows written,
    // and threw: an earlier group may be waiting for a lock this one holds (a constraint or
    // trigger the conflict keys do not know). Roll back, wait_turn(), then apply it again.
    bool gave_way() const { return gave_way_; }
    // The current group failed with a retryable error and will be applied again.
    void retrying() { context_.probe.retried(); }
    // Another worker failed while this one waited for its turn: nothing more may commit here.
    bool turn_aborted() const { return turn_aborted_; }
    // Whether `e` is the stream lease's error (TransactionFence::lost): the lease is lost.
    bool fenced_out(const Error& e) const {
        return context_.fence != nullptr && e.what() == context_.fence->lost;
    }
    // How long a group with rows written waits for its turn before it gives way.
    static constexpr std::chrono::milliseconds kTurnPatience{2000};

    // Folding per key on (true) or strict source order for every table (false).
    void set_collapse(bool on) { builder_.set_collapse(on); }

    bool in_doubt() const { return writer_.in_doubt(); }
    // Rows of the open group taken in so far.
    size_t rows() const { return tally_.rows; }

private:
    class HandlerTransaction;
    // What a group counts until it is reported committed.
    struct Tally {
        GroupSpan span;
        size_t txns = 0;
        size_t rows = 0;
        int64_t oldest_us = 0;  // source commit times of the group's transactions
        int64_t newest_us = 0;
        // Rows written in the open target transaction per table (upserts, deletes); they
        // count in the metrics only once committed.
        std::map<std::string, std::pair<uint64_t, uint64_t>> counts;
        // What a pipeline wrote, per segment (a chained group's, charged its time when the
        // answer is read).
        struct Written {
            std::shared_ptr<const target::TableMapping> mapping;
            size_t rows;
            bool deletes;
        };
        std::vector<Written> written;
    };
    static std::vector<Tally::Written> written_of(const std::vector<target::Segment>& segments);
    CheckpointWrite checkpoint_write();
    // Sends the group's COMMIT without reading its answer; `guard` checks the group before.
    void send_deferred(const CheckpointWrite* guard);
    void settle_oldest();
    // Rolls back the open group and forgets it (not the unanswered ones).
    void discard_open_group();
    void report_written(Tally& tally, const std::vector<Tally::Written>& written, double seconds);
    bool mid_group_flush_due() const;
    // Hands the segments of tables with an onWrite handler to it, writing the segments before
    // each such run first; returns the segments after the last run, still to be written.
    std::vector<target::Segment> through_on_write(std::vector<target::Segment> segments);
    bool has_on_write(const target::TargetTable& table);
    void apply_truncate(const ChangeItem& item);
    void record_written(const std::vector<target::Segment>& segments, double seconds);
    void committed(Tally& tally);  // the bookkeeping after a COMMIT
    // Whether every earlier group has committed, waiting up to `timeout`; throws rep::Error
    // (and sets turn_aborted_) if another worker failed.
    bool turn(std::chrono::milliseconds timeout);
    // Before COMMIT: writes the rows now if earlier groups are still committing, then waits
    // for the turn (ordered commits).
    void await_turn_to_commit();
    // Throws the error that names the failing row, table, transaction and checkpoint.
    [[noreturn]] void fail_segment(const Error& e, const target::Segment& s);
    std::string current_transaction() const;

    const ApplyContext& context_;
    CommitHooks& hooks_;
    std::unique_ptr<TableHooks> table_hooks_;  // before builder_, which uses it
    BatchBuilder builder_;
    GroupWriter writer_;

    // The source transaction being applied.
    uint32_t xid_ = 0;
    Position txn_id_;      // its kBegin position
    size_t txn_rows_ = 0;  // its row changes
    // The group.
    Tally tally_;
    // The group whose COMMIT is in doubt, from the first look at it until the doubt is
    // settled: a look that fails is followed by a rollback, which discards tally_, and the
    // next look must still ask about that group's span (commit_landed).
    std::optional<Tally> doubtful_;
    bool gave_way_ = false;
    bool turn_aborted_ = false;
    // Chaining.
    std::deque<Tally> unanswered_;  // oldest first
    bool settle_failed_ = false;
    std::map<std::string, bool> on_write_;  // by table: whether it has an onWrite handler
};

}  // namespace rep::sequencer
