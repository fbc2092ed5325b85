#pragma once

#include "sequencer/apply_loop.h"
#include "sequencer/schedule.h"

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace rep {

struct ParallelOptions {
    size_t workers = 16;  // --parallelism
    // --enableParallelApplies: order-sensitive tables (foreign keys, secondary unique
    // indexes) conflict per group of tables joined by foreign keys instead of all together.
    bool parallel_table_groups = false;
};

// Applies source transactions on several target connections at once (docs/architecture.md
// §2.8). The calling thread is the dispatcher: it pops ChangeItems in source order, forms
// groups of whole source transactions (the same --flushSize / --flushPeriod /
// --timestampLimit rules as the serial ApplyLoop; a group is sent before it is full only when
// no group is applying, as the serial loop's queue fills while it applies), computes each
// group's conflict keys and
// hands it to a worker chosen by the Schedule. Each worker is an ApplyLoop in worker mode on
// its own connection, committing one target transaction per group together with its
// checkpoint record, so what is committed is known exactly after any crash.
//
// A source transaction larger than --flushSize rows is not held: it is a barrier, streamed
// to one worker once everything before it has committed, and nothing else runs until it has.
// A TRUNCATE, or a transaction whose tables cannot be resolved, is a barrier too (the worker
// then reports the error as the serial loop would).
class ParallelApplyLoop {
public:
    // `dispatcher_conn` is used by this thread for catalog lookups; `workers` are the worker
    // connections (connected lazily, on first use). The committed prefix starts at the larger
    // of `applied.prefix()` and Progress; transactions in `applied` are skipped.
    ParallelApplyLoop(ApplyOptions options, ParallelOptions parallel, const Dialect& dialect,
                      SchemaRef target_schema, PgConn& dispatcher_conn,
                      std::vector<PgConn*> workers, Memo& memo, PgConn* staging,
                      BoundedQueue<ChangeItem>& queue, Progress& progress, metrics::Probe& probe,
                      const AppliedSet& applied);
    ~ParallelApplyLoop();

    // As ApplyLoop::run: until `stop` or the queue is closed and drained. Groups already
    // dispatched are committed before it returns; throws the first worker's error.
    void run(const std::atomic<bool>& stop);

private:
    class Worker;
    struct Pending {  // a source transaction, or a group of them, not yet dispatched
        std::vector<ChangeItem> items;
        std::vector<uint64_t> keys;  // conflict keys, duplicates allowed until dispatch
        size_t rows = 0;
        size_t txns = 0;
        bool barrier = false;
        LsnRange commits;
        Lsn end;
        std::chrono::steady_clock::time_point started;
        void clear() { *this = Pending{}; }
    };

    void on_item(ChangeItem item);
    void add_keys(const ChangeItem& changes);
    void close_transaction(ChangeItem commit);
    void dispatch(Pending& group);
    bool ready(const Pending& group) const;  // whether the group being formed should go now
    void start_streaming();
    void pass(Lsn lsn);
    bool failed() const;
    uint64_t group_key(const TargetTable& table);
    void write_plain_checkpoint();

    ApplyOptions options_;
    ParallelOptions parallel_;
    PgConn& conn_;
    Memo& memo_;
    PgConn* staging_;
    BoundedQueue<ChangeItem>& queue_;
    Progress& progress_;
    metrics::Probe& probe_;
    const AppliedSet& applied_;
    TableResolver resolver_;
    Schedule schedule_;
    std::vector<std::unique_ptr<Worker>> workers_;

    Pending group_;     // being formed
    size_t taken_ = 0;  // items taken from the queue and not yet looked at
    Pending txn_;       // the source transaction being read
    bool in_txn_ = false;
    bool skipping_ = false;   // the transaction is in `applied_`
    bool streaming_ = false;  // the transaction is being streamed to worker 0 as a barrier
    size_t stream_worker_ = 0;
    Lsn plain_written_;  // last value written to the plain checkpoint row
    // Tables joined by foreign keys, for --enableParallelApplies (loaded on first need).
    std::unordered_map<std::string, std::string> table_groups_;
    bool table_groups_loaded_ = false;
    // group_key() per order-sensitive table, so rows of such tables cost one lookup. The
    // resolver keeps every table it made, so the pointers stay valid; cleared whenever
    // table_groups_ is re-read.
    std::unordered_map<const TargetTable*, uint64_t> group_keys_;
};

}  // namespace rep
