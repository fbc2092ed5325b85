#pragma once

#include "sequencer/apply_context.h"
#include "sequencer/checkpointer.h"
#include "sequencer/group_applier.h"
#include "sequencer/retrying_applier.h"
#include "sequencer/schedule.h"
#include "util/bounded_queue.h"

#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace rep::sequencer {

// Items handed to a worker in one queue operation (a whole group, as a rule): one wake-up per
// group instead of one per item keeps the threads from spending their time switching.
struct WorkBatch {
    std::vector<ChangeItem> items;
    bool ends_group = false;  // commit the group after these items
    // Weighed in row changes, like the queue from the source: a transaction streamed to a
    // worker faster than the worker applies it waits here, not in memory without bound.
    size_t weight() const {
        size_t rows = 0;
        for (const ChangeItem& item : items) {
            rows += item.mutations.size();
        }
        return rows == 0 ? 1 : rows;
    }
};

// One apply connection and the thread that drives it: applies the groups the dispatcher
// hands it, in order, each as one target transaction, and checkpoints them through its
// CommitHooks (the Schedule for the committed prefix, the Checkpointer for the memo rows).
//
// Lifecycle: start(), push() any number of batches, finish() (no more batches: it applies
// what is queued, rolls back an unfinished group, and ends), join(). A failure ends the
// thread, aborts the schedule (waking the dispatcher) and is kept for error().
class ApplyWorker final : public CommitHooks {
public:
    // Everything must outlive the worker; `session` is used by this worker's thread only.
    ApplyWorker(size_t index, const ApplyContext& context, util::TargetSession& session,
                Schedule& schedule, Checkpointer& checkpointer);
    ~ApplyWorker() override;

    void start();
    // Waits while the worker holds 4 x --flushSize row changes not yet applied (one larger
    // batch is taken when it holds none). Drops the batch if the worker has failed.
    void push(WorkBatch batch);
    void finish() { batches_.close(); }
    void join();
    bool failed() const { return failed_.load(); }
    std::exception_ptr error() const { return error_; }
    // The worker failed only because another had failed first (ordered commits: its group
    // may not commit after an earlier one failed). The other's error is the one to report.
    bool failed_after_another() const { return after_another_; }

    // CommitHooks, called on the worker's thread.
    Schedule::Turn await_turn(std::chrono::milliseconds timeout, size_t own_ahead) override;
    bool chains() const override { return checkpointer_.chains(); }
    std::vector<std::pair<std::string, std::string>> memo_rows(const GroupSpan& span) override;
    void committed(const GroupSpan& span) override;
    bool landed(util::TargetSession& session, const GroupSpan& span) override;

private:
    void run();

    size_t index_;
    const ApplyContext& context_;
    Schedule& schedule_;
    Checkpointer& checkpointer_;
    util::BoundedQueue<WorkBatch> batches_;
    GroupApplier applier_;
    RetryingApplier retrying_;
    std::atomic<bool> failed_{false};
    bool after_another_ = false;
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace rep::sequencer
