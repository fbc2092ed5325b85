#pragma once

#include "core/change_item.h"
#include "sequencer/apply_context.h"
#include "sequencer/apply_worker.h"
#include "sequencer/checkpointer.h"
#include "sequencer/conflict_keys.h"
#include "sequencer/grouper.h"
#include "sequencer/schedule.h"
#include "sequencer/worker_limit.h"
#include "staging/parallel_checkpoint.h"
#include "util/bounded_queue.h"

#include <atomic>
#include <memory>
#include <vector>

namespace rep::sequencer {

// The apply side of a pipeline run (docs/architecture.md §2.6-2.8). The calling thread is the
// dispatcher: it pops ChangeItems in source order, forms groups of whole source transactions
// (Grouper), computes their conflict keys (ConflictKeys) and hands each to an apply worker
// chosen by the Schedule. Each worker applies its groups on its own connection, one target
// transaction per group, together with its checkpoint.
//
// There is one way to apply, whatever the number of workers: groups that share no key run at
// once on several workers, and by default commit in source order, so the plain memo row is
// the checkpoint (PlainCheckpointer). With unordered commits (--unorderedCommits) they commit
// in any order and each worker also records what it committed (RecordCheckpointer,
// docs/staging.md §4.3). Progress, and so what the source is told, is the Schedule's
// contiguous committed prefix.
class Dispatcher {
public:
    // `session` serves this thread's catalog lookups and checkpoint writes; `workers` are the
    // apply connections, one per worker (connected on first use). The committed prefix starts
    // at the larger of `applied.prefix()` and Progress; transactions in `applied` are skipped.
    // Several workers with unordered commits need a codec with stable ordinals.
    Dispatcher(const ApplyContext& context, util::TargetSession& session,
               std::vector<util::TargetSession*> workers, util::BoundedQueue<ChangeItem>& queue,
               const staging::AppliedSet& applied);
    ~Dispatcher();

    // Applies until `stop` is set or the queue is closed and drained. Groups already
    // dispatched are committed before it returns; throws the first worker's error.
    void run(const std::atomic<bool>& stop);

private:
    void perform(std::vector<Grouper::Step>& steps);
    void dispatch(Group& group);
    void start_stream(Group& group);
    void pass(const Position& position);
    // Feeds the WorkerLimit and applies what it decides.
    void adapt_limit(std::chrono::steady_clock::time_point now, bool backlog);
    // How many workers take independent groups, and the window that goes with them.
    void set_active(size_t active);
    static size_t window_groups(size_t active);
    static size_t window_rows(size_t active, size_t flush_size);
    // How busy this machine's cores are, when the target shares them (else none).
    static WorkerLimit::CoreBusy shared_cores(const ApplyOptions& options);
    bool failed() const;
    // Whether the group being formed goes now (see the definition).
    bool send_now(std::chrono::steady_clock::time_point now) const;

    const ApplyContext& context_;
    util::TargetSession& session_;
    util::BoundedQueue<ChangeItem>& queue_;
    Schedule schedule_;
    WorkerLimit limit_;
    std::unique_ptr<Checkpointer> checkpointer_;
    ConflictKeys keys_;
    Grouper grouper_;
    std::vector<std::unique_ptr<ApplyWorker>> workers_;
    size_t taken_ = 0;  // items taken from the queue and not yet looked at
    size_t stream_worker_ = 0;
    size_t streamed_rows_ = 0;     // of the transaction being streamed
    bool told_saturated_ = false;  // the info line on saturated cores went out
    bool old_commits_ = false;     // the last commit taken was from a backlog (adapt_limit)
    // While one connection takes every group (the worker limit at 1, ordered commits), groups
    // are formed without their conflict keys, each holding Schedule::kEveryKey instead: keys
    // only choose between connections, and deriving them costs CPU on every row.
    bool keyless_ = false;
};

}  // namespace rep::sequencer
