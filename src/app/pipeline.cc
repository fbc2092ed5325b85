#include "app/pipeline.h"

#include "app/signals.h"
#include "sequencer/dispatcher.h"
#include "source/transaction_emitter.h"
#include "staging/memo.h"
#include "util/thread_name.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <optional>
#include <thread>

namespace rep::app {

void Pipeline::run() {
    metrics::Probe& probe = apply.probe;
    util::BoundedQueue<ChangeItem> queue(config.target_apply_queue_size,
                                         sequencer::kApplyQueueBytes);
    std::atomic<bool> pipeline_stop{false};
    std::atomic<bool> reader_stop{false};
    std::exception_ptr reader_error;
    std::exception_ptr apply_error;

    size_t capacity = config.target_apply_queue_size;
    probe.set_queue_sampler([&queue, capacity] {
        size_t rows = queue.weight();
        double by_rows =
            static_cast<double>(rows) / static_cast<double>(std::max<size_t>(capacity, 1));
        double by_bytes =
            static_cast<double>(queue.bytes()) / static_cast<double>(sequencer::kApplyQueueBytes);
        return metrics::Probe::QueueSample{rows, capacity, std::max(by_rows, by_bytes)};
    });
    struct ResetSampler {
        metrics::Probe& probe;
        size_t capacity;
        ~ResetSampler() {
            probe.set_queue_sampler([c = capacity] {
                return metrics::Probe::QueueSample{0, c, 0};
            });
        }
    } reset_sampler{probe, capacity};

    // With a row stage (--userscript), the reader feeds a small queue of its own and the
    // stage runs on a thread between it and the apply queue, so the source is decoded while
    // the script runs. The stage sees whole queue items, so nothing it holds back crosses a
    // transaction boundary.
    std::optional<util::BoundedQueue<ChangeItem>> staged;
    if (stage != nullptr) {
        staged.emplace(2 * config.flush_size, sequencer::kApplyQueueBytes / 4);
    }
    util::BoundedQueue<ChangeItem>& reader_queue = staged ? *staged : queue;
    std::exception_ptr stage_error;
    std::thread stage_thread;
    if (staged) {
        stage_thread = std::thread([&] {
            util::name_this_thread("script");
            try {
                run_stage(*staged, queue, pipeline_stop);
            } catch (...) {
                stage_error = std::current_exception();
                pipeline_stop = true;
                staged->close();
            }
            queue.close();
        });
    }
    std::thread reader_thread([&] {
        util::name_this_thread("reader");
        try {
            source::TransactionEmitter emitter(reader_queue, config.flush_size, reader_stop);
            source.run(emitter, apply.progress, probe, reader_stop);
        } catch (...) {
            reader_error = std::current_exception();
        }
        pipeline_stop = true;
        reader_queue.close();
    });
    // Forward a signal to the apply side; the reader keeps serving the source until the
    // applier has committed what it will commit.
    std::thread watcher([&] {
        util::name_this_thread("stop-watch");
        while (!pipeline_stop.load()) {
            if (stop_requested().load() || (abort != nullptr && abort->load())) {
                pipeline_stop = true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    try {
        // Connections that broke in an earlier run are replaced here, between transactions,
        // where nothing can be lost by it.
        for (util::TargetSession* c : {&target, apply.staging}) {
            if (c != nullptr && !c->connected()) {
                c->connect();
            }
        }
        // What earlier runs committed beyond the plain checkpoint (parallel commits); the
        // source sends those transactions again and they must be skipped.
        staging::AppliedSet applied;
        if (apply.codec.stable_ordinals()) {
            util::TargetSession& memo_session = apply.staging != nullptr ? *apply.staging : target;
            // In one fenced transaction: a process that lost the stream's lease must not
            // rewrite the new holder's checkpoint rows.
            sequencer::run_fenced(memo_session, apply.staging != nullptr ? nullptr : apply.fence,
                                  [&] {
                                      applied = staging::recover_applied(
                                          apply.memo, memo_session, apply.memo_key, apply.codec);
                                  });
            if (!applied.empty()) {
                spdlog::info(
                    "{} range(s) of source transactions were committed beyond {} by parallel "
                    "workers; they are skipped when the source sends them again",
                    applied.ranges().size(),
                    apply.codec.describe(apply.codec.at(applied.prefix())));
            }
        }
        sequencer::Dispatcher dispatcher(apply, target, workers, queue, applied);
        dispatcher.run(pipeline_stop);
    } catch (...) {
        apply_error = std::current_exception();
    }
    pipeline_stop = true;
    reader_stop = true;
    queue.close();
    if (staged) {
        staged->close();
        stage_thread.join();
    }
    reader_thread.join();
    watcher.join();
    if (apply_error) {
        std::rethrow_exception(apply_error);
    }
    for (const std::exception_ptr& e : {stage_error, reader_error}) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

void Pipeline::run_stage(util::BoundedQueue<ChangeItem>& in, util::BoundedQueue<ChangeItem>& out,
                         const std::atomic<bool>& stop) {
    source::StagedRows staged;
    bool flowing = false;  // the last look found items
    for (;;) {
        // Everything queued at once, and while changes flow, every millisecond rather than
        // woken by each item (as the dispatcher takes from the apply queue). The stage is
        // faster than the reader, so woken by every push it ran the script one transaction at
        // a time: each call into the engine costs about as much as two rows (script_bench
        // with SCRIPT_BENCH_TXN_ROWS=1 against 256), and each wake-up a context switch on both
        // threads; on 2 cores catch-up with a script spent more CPU on those than on the
        // script. Once a look a millisecond after the last finds nothing, it blocks instead,
        // so a trickle costs a wake-up per item as before, and an idle stream nothing.
        std::deque<ChangeItem> items = in.take_all();
        if (items.empty()) {
            if (in.closed() && in.empty()) {
                break;  // the reader is done, and so is everything it sent
            }
            if (flowing) {
                flowing = false;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            std::optional<ChangeItem> item = in.pop_for(std::chrono::milliseconds(100));
            if (!item) {
                continue;
            }
            items.push_back(std::move(*item));
        }
        flowing = true;
        // The row changes of all of them go through the stage together, so the script runs
        // in batches larger than one transaction. Nothing is handed on before the last
        // answer, so a script error leaves every item of this take unapplied.
        source::run_items(*stage, items, staged);
        for (ChangeItem& item : items) {
            if (item.kind == ChangeItem::Kind::kChanges && item.mutations.empty()) {
                continue;  // every row dropped: the transaction's framing goes on without it
            }
            while (!out.push_for(item, std::chrono::milliseconds(100))) {
                if (out.closed() || stop.load()) {
                    return;
                }
            }
        }
    }
}

}  // namespace rep::app
