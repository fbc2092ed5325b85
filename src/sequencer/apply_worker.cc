#include "sequencer/apply_worker.h"

#include "util/thread_name.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace rep::sequencer {

ApplyWorker::ApplyWorker(size_t index, const ApplyContext& context, util::TargetSession& session,
                         Schedule& schedule, Checkpointer& checkpointer)
    : index_(index),
      context_(context),
      schedule_(schedule),
      checkpointer_(checkpointer),
      batches_(4 * std::max<size_t>(1, context.options.flush_size)),
      applier_(context, session, *this),
      retrying_(applier_, context.options.retry, context.options.collapse,
                kKeptGroupGrowth * std::max<size_t>(1, context.options.flush_size)) {}

ApplyWorker::~ApplyWorker() {
    finish();
    join();
}

void ApplyWorker::start() {
    thread_ = std::thread([this] {
        util::name_this_thread("apply-" + std::to_string(index_));
        run();
    });
}

void ApplyWorker::join() {
    if (thread_.joinable()) {
        thread_.join();
    }
}

void ApplyWorker::push(WorkBatch batch) {
    while (!batches_.push_for(batch, std::chrono::milliseconds(100))) {
        if (failed() || batches_.closed()) {
            return;  // not applied; the source sends it again after a restart
        }
    }
}

void ApplyWorker::run() {
    bool in_group = false;
    try {
        for (;;) {
            if (retrying_.unanswered() > 0 && batches_.empty()) {
                // Nothing to chain behind the last COMMIT: read its answer now, so the group
                // counts as committed and the groups waiting for their turn may go.
                retrying_.settle();
            }
            auto batch = batches_.pop_for(std::chrono::milliseconds(50));
            if (!batch) {
                if (batches_.closed() && batches_.empty()) {
                    break;
                }
                continue;
            }
            context_.probe.busy(true);
            struct Idle {
                metrics::Probe& probe;
                ~Idle() { probe.busy(false); }
            } idle{context_.probe};
            for (ChangeItem& item : batch->items) {
                in_group = true;
                retrying_.apply(std::move(item));
            }
            if (batch->ends_group) {
                retrying_.end_group(/*next_at_hand=*/!batches_.empty());
                in_group = false;
            }
        }
        retrying_.settle();
        if (in_group) {
            // A group counts only once its end commits it; without the end it is incomplete
            // (a stop cut a streamed transaction short) and the source sends it again.
            retrying_.abandon();
        }
    } catch (const Error&) {
        error_ = std::current_exception();
    } catch (const std::exception& e) {
        error_ = std::make_exception_ptr(Error(ErrorKind::kFatal, e.what()));
    }
    if (error_) {
        after_another_ = schedule_.aborted();
        failed_ = true;
        schedule_.abort();
    }
}

Schedule::Turn ApplyWorker::await_turn(std::chrono::milliseconds timeout, size_t own_ahead) {
    return schedule_.await_turn(index_, timeout, own_ahead);
}

std::vector<std::pair<std::string, std::string>> ApplyWorker::memo_rows(const GroupSpan& span) {
    return checkpointer_.rows(index_, span);
}

void ApplyWorker::committed(const GroupSpan& span) {
    // The checkpoint first: once the Schedule counts the group as done, the dispatcher may
    // write the memo on its own (Checkpointer::tick).
    checkpointer_.committed(index_, span);
    Position prefix = schedule_.committed(index_, span.txns);
    context_.progress.advance(prefix);
    context_.probe.set_confirmed(context_.progress.ordinal());
}

bool ApplyWorker::landed(util::TargetSession& session, const GroupSpan& span) {
    return checkpointer_.landed(session, index_, span);
}

}  // namespace rep::sequencer
