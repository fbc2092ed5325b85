#pragma once

#include "base/duration.h"
#include "base/error.h"
#include "core/change_item.h"
#include "core/progress.h"
#include "sequencer/batch_builder.h"
#include "staging/memo.h"
#include "staging/parallel_checkpoint.h"
#include "target/table_applier.h"
#include "util/bounded_queue.h"
#include "util/retry.h"

#include "metrics/probe.h"

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rep {
class PgConn;

enum class TruncateMode { kApply, kIgnore, kError };

// How a worker of the parallel apply (sequencer/parallel_apply.h) checkpoints its groups
// instead of the serial memo row and Progress. `commits` are the commit-record LSNs of the
// first and last source transaction the target transaction holds.
class CommitHooks {
public:
    virtual ~CommitHooks() = default;
    // The memo rows (key, value) to upsert in the target transaction, just before COMMIT.
    virtual std::vector<std::pair<std::string, std::string>> memo_rows(LsnRange commits) = 0;
    // After COMMIT (or, if the group wrote nothing, instead of it).
    virtual void after_commit(LsnRange commits) = 0;
    // After the connection broke during COMMIT: whether the memo rows show that the group
    // committed. Throws rep::Error if the target cannot be read.
    virtual bool landed(PgConn& conn, LsnRange commits) = 0;
};

struct ApplyOptions {
    size_t flush_size = 1000;
    Duration flush_period = std::chrono::seconds(1);
    TruncateMode truncate_mode = TruncateMode::kApply;
    RetryPolicy retry;
    std::string memo_key;
    // True when the memo lives in the target database: the checkpoint is then written in the
    // same target transaction as the data it covers (exactly once).
    bool memo_in_target = true;
    // --collapseMutations: fold each table's changes per key within a target transaction.
    bool collapse = true;
    // --timestampLimit: most source transactions grouped into one target transaction.
    size_t timestamp_limit = 1000;
    // Source transactions known to be applied already (parallel checkpoint records left
    // beyond the plain checkpoint); they are skipped. May be null.
    const AppliedSet* applied = nullptr;
    // Worker mode: the loop commits only at a kKeepalive item (the dispatcher's end of a
    // group) and reports commits to the hooks rather than to the memo and Progress.
    CommitHooks* hooks = nullptr;
};

// The target side of the pipeline: pops ChangeItems in source order and applies them.
//
// Source transactions stay atomic: each is applied inside one target transaction. Consecutive
// small source transactions are grouped into one target transaction until --flushSize rows
// or --flushPeriod have accumulated, or the queue runs dry; the group commits only on a
// source commit boundary, together with the memo row (when staging is the target database),
// and only then does Progress move. A large transaction is applied in --flushSize pieces as
// it arrives, never held whole.
//
// Retryable target errors roll the target transaction back and replay the group from memory
// with exponential backoff; a group too large to keep in memory is instead replayed from the
// source (the loop throws a retryable Error and the pipeline restarts at Progress).
// Single-threaded: run() owns the target connection.
class ApplyLoop {
public:
    // `queue` may be null in worker mode, where only apply() and finish() are used.
    ApplyLoop(ApplyOptions options, const Dialect& dialect, SchemaRef target_schema, PgConn& target,
              Memo& memo, PgConn* staging, BoundedQueue<ChangeItem>* queue, Progress& progress,
              metrics::Probe& probe);

    // Applies until `stop` is set or the queue is closed and drained, then finish()es.
    // Throws rep::Error.
    void run(const std::atomic<bool>& stop);
    // One item, as run() does with each it pops (worker mode: the caller feeds the items).
    void apply(ChangeItem item);
    // The end of a run: the open target transaction is committed if it holds only whole
    // source transactions, and rolled back if one is partly applied (the source sends
    // everything after the checkpoint again). In worker mode it is always rolled back: a
    // group counts only once its end marker commits it.
    void finish();

    uint64_t rows_applied() const { return rows_applied_; }
    uint64_t transactions_applied() const { return txns_applied_; }

private:
    void process(const ChangeItem& item);
    void process_with_retry(ChangeItem item);
    void retry_group(const Error& first);
    // After a fatal error: replays the group in strict source order; returns if that works
    // (the error came from folding), else commits the transactions before the failing one and
    // throws the failing one's error.
    void salvage_group(const Error& original);
    void flush_segments() { write_pipeline(/*commit=*/false); }
    bool mid_group_flush_due() const;
    // Writes the pending segments in one round trip, led by BEGIN if it is not sent yet and,
    // with `commit`, followed by the memo rows and COMMIT.
    void write_pipeline(bool commit);
    void send_begin();  // BEGIN now, before a statement that is not pipelined
    void record_written(const std::vector<Segment>& segments, double seconds);
    void apply_truncate(const ChangeItem& item);
    void begin_target_txn();
    void commit_group();
    void committed_group();  // the bookkeeping after a COMMIT
    void clear_group();      // forgets the group's counters and its in-memory log
    // Whether a COMMIT whose outcome is in doubt (the connection broke) landed; false when it
    // did not or cannot be told yet (commit_in_doubt_ then stays set).
    bool commit_landed();
    void rollback_quietly();
    [[noreturn]] void fail_segment(const Error& e, const Segment& s);
    std::string position_text() const;  // the confirmed checkpoint, for messages

    ApplyOptions options_;
    const Dialect& dialect_;
    PgConn& target_;
    Memo& memo_;
    PgConn* staging_;
    BoundedQueue<ChangeItem>* queue_;  // null in worker mode
    Progress& progress_;
    metrics::Probe& probe_;
    TableResolver resolver_;
    SegmentWriter writer_;
    BatchBuilder builder_;

    // The open target transaction ("group"). BEGIN is sent with the first statements.
    bool txn_open_ = false;
    bool begun_ = false;
    bool source_txn_open_ = false;
    uint32_t current_xid_ = 0;
    Lsn current_lsn_;               // commit LSN of the source transaction being applied
    std::string current_txn_;       // names it in messages (xid and LSN, or GTID)
    Lsn group_end_;                 // end of the last source commit in the group
    std::string group_checkpoint_;  // the memo value for group_end_
    Lsn keepalive_;  // a source position with nothing to apply, reached once the group commits
    bool commit_due_ = false;       // last source commit in the group
    bool skipping_ = false;         // the source transaction is in options_.applied
    bool commit_in_doubt_ = false;  // the connection broke with this group's COMMIT sent
    LsnRange group_commits_;        // commit-record LSNs of the group's first and last transaction
    size_t group_rows_ = 0;
    size_t txn_rows_ = 0;  // row changes of the current source transaction
    size_t group_txns_ = 0;
    int64_t group_oldest_us_ = 0;  // source commit times of the group's transactions
    int64_t group_newest_us_ = 0;
    std::chrono::steady_clock::time_point group_started_;
    std::vector<ChangeItem> log_;  // items of the group, for in-memory replay
    bool log_complete_ = true;
    // Rows written in the open target transaction per table (upserts, deletes); they count
    // in the metrics only once committed.
    std::map<std::string, std::pair<uint64_t, uint64_t>> pending_counts_;

    uint64_t rows_applied_ = 0;
    uint64_t txns_applied_ = 0;
};

}  // namespace rep
