#pragma once

#include "app/config.h"
#include "core/change_item.h"
#include "core/progress.h"
#include "sequencer/apply_context.h"
#include "source/row_stage.h"
#include "source/source.h"
#include "util/bounded_queue.h"
#include "util/target_session.h"

#include "metrics/probe.h"

#include <atomic>
#include <vector>

namespace rep::app {

// One run of the pipeline (docs/architecture.md §1): the source's reader on its own thread
// feeds the bounded queue through the TransactionEmitter (with a row stage, through a small
// queue of its own and the stage's thread); the calling thread dispatches to the apply
// workers. The runner builds
// a new Pipeline run after every retryable failure; nothing received but not committed
// survives it, so the source sends it again from Progress.
struct Pipeline {
    const CommonConfig& config;
    source::Source& source;
    const sequencer::ApplyContext& apply;
    util::TargetSession& target;                // the runner's: catalog lookups, checkpoints
    std::vector<util::TargetSession*> workers;  // one per apply worker
    source::RowStage* stage = nullptr;  // on a thread between the source and the queue, if any
    // When set, the run stops as on a stop request (the stream's lease is lost; commits are
    // refused by the fence meanwhile).
    const std::atomic<bool>* abort = nullptr;

    // Returns normally on a requested stop; throws the first error either side raised.
    void run();

private:
    // The stage's thread: items from `in` through the stage into `out`, until `in` is closed
    // and drained, `out` is closed or `stop` is set. Throws what the stage throws.
    void run_stage(util::BoundedQueue<ChangeItem>& in, util::BoundedQueue<ChangeItem>& out,
                   const std::atomic<bool>& stop);
};

}  // namespace rep::app
