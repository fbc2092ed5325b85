#include "sequencer/dispatcher.h"

#include "base/clock.h"
#include "base/error.h"
#include "sequencer/plain_checkpointer.h"
#include "sequencer/record_checkpointer.h"
#include "target/catalog_queries.h"
#include "util/this_machine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <thread>

namespace rep::sequencer {
namespace {

// How long the dispatcher waits for the schedule before checking the workers again.
constexpr std::chrono::milliseconds kAssignWait{100};

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

Position start_of(const ApplyContext& context, const staging::AppliedSet& applied) {
    Position progress = context.progress.get();
    if (applied.prefix() > progress.ordinal) {
        return context.codec.at(applied.prefix());
    }
    return progress;
}

}  // namespace

Dispatcher::Dispatcher(const ApplyContext& context, util::TargetSession& session,
                       std::vector<util::TargetSession*> workers,
                       util::BoundedQueue<ChangeItem>& queue, const staging::AppliedSet& applied)
    : context_(context),
      session_(session),
      queue_(queue),
      // The window (set_active) bounds what is dispatched beyond the committed prefix.
      schedule_(workers.size(), window_groups(workers.size()), start_of(context, applied),
                context.options.ordered_commits,
                window_rows(workers.size(), context.options.flush_size), kWindowBytes),
      limit_(context.options.adaptive_parallelism ? workers.size() : 1,
             context.options.start_parallelism, shared_cores(context.options)),
      keys_(
          context.catalog, session, context.options.parallel_table_groups,
          [database = context.catalog.catalog_database()](util::TargetSession& s) {
              return target::load_row_ties(s, database);
          },
          context.handled_table),
      grouper_({context.options.flush_size, context.options.timestamp_limit,
                context.options.flush_period},
               context.codec, &applied,
               [this, parallel = workers.size() > 1](const ChangeItem& changes,
                                                     std::vector<uint64_t>& keys) {
                   // Keys only choose between workers: with one, every group queues behind
                   // the one before anyway. With one active, a group conflicts with all.
                   if (parallel && keyless_) {
                       keys.push_back(Schedule::kEveryKey);
                       return true;
                   }
                   return !parallel || keys_.add(changes, keys);
               }) {
    if (workers.size() > 1 && !context.options.ordered_commits) {
        checkpointer_ = std::make_unique<RecordCheckpointer>(
            context, schedule_, context.codec.at(applied.prefix()), workers.size());
    } else {
        checkpointer_ = std::make_unique<PlainCheckpointer>(context);
    }
    for (size_t i = 0; i < workers.size(); ++i) {
        workers_.push_back(
            std::make_unique<ApplyWorker>(i, context, *workers[i], schedule_, *checkpointer_));
    }
    set_active(context.options.adaptive_parallelism ? limit_.limit() : workers.size());
}

size_t Dispatcher::window_groups(size_t active) {
    return 2 * active + 2;
}

size_t Dispatcher::window_rows(size_t active, size_t flush_size) {
    return std::max(window_groups(active) * 4, 2 * (kGroupGrowth + 1)) *
           std::max<size_t>(1, flush_size);
}

void Dispatcher::set_active(size_t active) {
    schedule_.set_active(active);
    // The window: enough to keep every active worker busy with one group queued behind the
    // running one, and in rows as many as that many groups of 4 x --flushSize, so that memory
    // stays bounded when groups grow further (up to kGroupGrowth x --flushSize, send_now()):
    // then fewer are in flight. It follows the active workers rather than all of them: with
    // one taking every group, a window for sixteen let the reader run far ahead of the apply
    // and chase the walsender in small reads (a fifth more CPU on an insert-only catch-up
    // on 2 shared cores, most of it in the reader's wake-ups). Workers beyond the first L
    // still take groups whose keys they hold; those count against the smaller window too,
    // which only delays them. In rows it never holds fewer than two fully grown groups: a
    // worker chains a group behind the one committing only if it is already queued
    // (apply_worker.cc), which a distant target needs most at L = 1 (hot keys).
    schedule_.set_window(window_groups(active), window_rows(active, context_.options.flush_size));
    context_.probe.set_parallelism_limit(active);
    // Groups formed from now on; those formed keyless keep every key until committed, so
    // nothing overtakes them on another connection.
    keyless_ = active == 1 && workers_.size() > 1 && context_.options.ordered_commits;
}

WorkerLimit::CoreBusy Dispatcher::shared_cores(const ApplyOptions& options) {
    if (!options.target_on_this_machine || !options.adaptive_parallelism) {
        return {};
    }
    auto load = std::make_shared<util::CoreLoad>();
    return [load] { return load->busy_since_last(); };
}

Dispatcher::~Dispatcher() {
    for (auto& w : workers_) {
        w->finish();
    }
    for (auto& w : workers_) {
        w->join();
    }
}

bool Dispatcher::failed() const {
    return std::any_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->failed(); });
}

bool Dispatcher::send_now(std::chrono::steady_clock::time_point now) const {
    if (grouper_.in_transaction() || !grouper_.forming()) {
        return false;
    }
    bool backlog = taken_ > 0 || !queue_.empty();
    size_t in_flight = schedule_.in_flight();
    if (!backlog && in_flight == 0) {
        return true;  // idle: nothing queued, nothing applying; waiting would gain nothing
    }
    if (!grouper_.due(now)) {
        return false;
    }
    // Due. When the source has more waiting (a backlog) and groups are in flight, it grows
    // instead (up to kGroupGrowth x --flushSize rows, never past --timestampLimit
    // transactions or --flushPeriod), so that each commit carries more when commits are what
    // limits the rate: with ordered commits against a target far away every commit costs a
    // round trip after the one before, and a group that shares keys with the one before
    // queues behind it and pays its execution round trip too. The group size then adapts to
    // rate x round trip. Keeping up with the source, it goes at once: waiting would only add
    // lag. It also goes before the next transaction (at most --flushSize rows) could take it
    // past what a worker keeps for in-place retries and salvage (kRetryKept*): a grown group
    // must not lose them.
    size_t flush = std::max<size_t>(1, context_.options.flush_size);
    bool keepable = grouper_.forming_rows() + flush <= kRetryKeptRows &&
                    grouper_.forming_bytes() <= kRetryKeptBytes / 2;
    return !backlog || in_flight == 0 || grouper_.due(now, kGroupGrowth) || !keepable;
}

void Dispatcher::run(const std::atomic<bool>& stop) {
    for (auto& w : workers_) {
        w->start();
    }
    std::exception_ptr dispatch_error;
    auto last_tick = std::chrono::steady_clock::now();
    auto last_item = last_tick;
    std::vector<Grouper::Step> steps;
    try {
        while (!stop.load() && !failed()) {
            // While changes flow, take whatever has queued up every millisecond: the
            // dispatcher is much faster than the reader, and waking it for every item would
            // cost more CPU than the dispatching. After 50 ms without any, and with no group
            // waiting for the workers to drain, block instead.
            std::deque<ChangeItem> items = queue_.take_all();
            auto now = std::chrono::steady_clock::now();
            if (items.empty()) {
                if (now - last_item >= std::chrono::milliseconds(50) && !grouper_.forming()) {
                    if (auto item = queue_.pop_for(std::chrono::milliseconds(50))) {
                        items.push_back(std::move(*item));
                    }
                } else {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            }
            // The source has a backlog when the queue filled up while the dispatcher waited for
            // the workers, or when the transactions arriving committed on the source more than
            // kBacklogAge ago: catching up on a machine whose cores the source, the target and
            // the replicator share, the queue may stay short while everything competes for the
            // CPU, and then how many connections apply still sets the rate.
            size_t taken_rows = 0;
            int64_t newest_commit_us = 0;
            for (const ChangeItem& item : items) {
                taken_rows += item.weight();
                if (item.kind == ChangeItem::Kind::kCommit) {
                    newest_commit_us = std::max(newest_commit_us, item.commit_time_us);
                }
            }
            if (newest_commit_us > 0) {
                old_commits_ = unix_now_us() - newest_commit_us > kBacklogAge.count();
            }
            adapt_limit(now, old_commits_ || 2 * taken_rows >= queue_.capacity());
            if (now - last_tick >= std::chrono::seconds(1)) {
                checkpointer_->tick(session_, schedule_.prefix(),
                                    /*idle=*/schedule_.in_flight() == 0, /*final=*/false);
                last_tick = now;
            }
            if (items.empty()) {
                if (send_now(std::chrono::steady_clock::now())) {
                    auto group = grouper_.take();
                    dispatch(*group);
                }
                if (queue_.closed() && queue_.empty()) {
                    break;
                }
                continue;
            }
            last_item = std::chrono::steady_clock::now();
            taken_ = items.size();
            for (ChangeItem& item : items) {
                --taken_;
                steps.clear();
                auto at = std::chrono::steady_clock::now();
                grouper_.add(std::move(item), at, steps);
                perform(steps);
                // A group goes once it is full or old, or at once if nothing waits behind
                // it: then it is the fastest way to the target. While groups are still
                // applying it keeps growing instead; it could not start much sooner, and
                // many small target transactions cost more than a few large ones.
                if (send_now(at)) {
                    auto group = grouper_.take();
                    dispatch(*group);
                }
            }
        }
        // On a stop, whole transactions already grouped are committed.
        if (!failed()) {
            if (auto group = grouper_.take()) {
                dispatch(*group);
            }
        }
    } catch (...) {
        dispatch_error = std::current_exception();
    }
    for (auto& w : workers_) {
        w->finish();
    }
    for (auto& w : workers_) {
        w->join();
    }
    // The error of the worker that failed first: with ordered commits, the others' groups
    // fail after it only because they may not commit past it.
    for (bool consequences : {false, true}) {
        for (auto& w : workers_) {
            if (w->error() && w->failed_after_another() == consequences) {
                std::rethrow_exception(w->error());
            }
        }
    }
    if (dispatch_error) {
        std::rethrow_exception(dispatch_error);
    }
    checkpointer_->tick(session_, schedule_.prefix(), /*idle=*/true, /*final=*/true);
}

void Dispatcher::adapt_limit(std::chrono::steady_clock::time_point now, bool backlog) {
    size_t before = limit_.limit();
    limit_.observe(now, schedule_.committed_rows(), backlog);
    if (limit_.limit() != before) {
        if (limit_.saturated() && limit_.limit() == 1 && !told_saturated_) {
            told_saturated_ = true;
            spdlog::info(
                "the target runs on this machine and its cores are saturated: independent "
                "groups go to 1 of the {} apply connections, more only if they commit clearly "
                "faster",
                workers_.size());
        }
        spdlog::debug("independent groups now go to {} of the {} apply connections (was {})",
                      limit_.limit(), workers_.size(), before);
        set_active(limit_.limit());
    }
}

void Dispatcher::perform(std::vector<Grouper::Step>& steps) {
    for (Grouper::Step& step : steps) {
        switch (step.kind) {
            case Grouper::Step::Kind::kDispatch:
                dispatch(step.group);
                break;
            case Grouper::Step::Kind::kStreamStart:
                start_stream(step.group);
                break;
            case Grouper::Step::Kind::kStreamItem: {
                streamed_rows_ += step.item.mutations.size();
                WorkBatch batch;
                batch.items.push_back(std::move(step.item));
                workers_[stream_worker_]->push(std::move(batch));
                break;
            }
            case Grouper::Step::Kind::kStreamEnd: {
                schedule_.finish(step.position, streamed_rows_ + step.item.mutations.size());
                WorkBatch batch;
                batch.items.push_back(std::move(step.item));
                batch.ends_group = true;
                workers_[stream_worker_]->push(std::move(batch));
                break;
            }
            case Grouper::Step::Kind::kPass:
                pass(step.position);
                break;
        }
    }
}

void Dispatcher::dispatch(Group& group) {
    std::vector<uint64_t>& keys = group.keys;  // deduplicated here, once per group
    Schedule::normalize(keys);
    std::optional<size_t> w;
    bool shared = false;
    auto waiting_since = std::chrono::steady_clock::now();
    while (!(w = schedule_.assign(keys, group.barrier, group.txn_ids, group.end, kAssignWait,
                                  &shared, group.rows, group.bytes))) {
        if (failed()) {
            return;  // not applied; the source sends it again after a restart
        }
    }
    using Placement = metrics::Probe::GroupPlacement;
    context_.probe.parallel_group(group.barrier ? Placement::kBarrier
                                  : shared      ? Placement::kAfterConflict
                                                : Placement::kIndependent,
                                  seconds_since(waiting_since));
    workers_[*w]->push(WorkBatch{std::move(group.items), /*ends_group=*/true});
}

void Dispatcher::start_stream(Group& group) {
    std::optional<size_t> w;
    auto waiting_since = std::chrono::steady_clock::now();
    while (!(w = schedule_.assign({}, /*barrier=*/true, group.txn_ids, Position{}, kAssignWait))) {
        if (failed()) {
            throw Error(ErrorKind::kRetryable, "an apply worker failed");
        }
    }
    context_.probe.parallel_group(metrics::Probe::GroupPlacement::kBarrier,
                                  seconds_since(waiting_since));
    stream_worker_ = *w;
    streamed_rows_ = group.rows;
    workers_[stream_worker_]->push(WorkBatch{std::move(group.items), /*ends_group=*/false});
}

void Dispatcher::pass(const Position& position) {
    context_.progress.advance(schedule_.pass(position));
}

}  // namespace rep::sequencer
