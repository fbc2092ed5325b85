#include "sequencer/schedule.h"

#include <algorithm>
#include <limits>

namespace rep::sequencer {

Schedule::Schedule(size_t workers, size_t window, Position start, bool ordered, size_t window_rows,
                   size_t window_bytes)
    : window_(std::max<size_t>(window, 1)),
      window_rows_(window_rows),
      window_bytes_(window_bytes),
      active_(std::max<size_t>(workers, 1)),
      ordered_(ordered),
      prefix_(std::move(start)),
      workers_(std::max<size_t>(workers, 1)) {}

void Schedule::normalize(Keys& keys) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    // Shared keys sort after every exclusive one (top bit set): drop those also held
    // exclusively.
    auto first_shared =
        std::find_if(keys.begin(), keys.end(), [](uint64_t k) { return is_shared(k); });
    auto exclusives_end = first_shared;
    keys.erase(std::remove_if(first_shared, keys.end(),
                              [&](uint64_t k) {
                                  return std::binary_search(keys.begin(), exclusives_end,
                                                            exclusive(k));
                              }),
               keys.end());
}

std::optional<size_t> Schedule::choose(const Keys& keys, bool barrier, size_t rows, size_t bytes,
                                       bool* shared) const {
    if (barriers_in_flight_ > 0 || groups_in_flight_ >= window_) {
        return std::nullopt;
    }
    if (rows_beyond_ > 0 && rows_beyond_ + rows > window_rows_) {
        return std::nullopt;
    }
    if (bytes_beyond_ > 0 && bytes_beyond_ + bytes > window_bytes_) {
        return std::nullopt;
    }
    // Committed groups beyond the prefix also count against the window: their ranges are
    // carried in the checkpoint records until the prefix passes them.
    size_t beyond = 0;
    for (const Group& g : groups_) {
        beyond += g.passthrough ? 0 : 1;
    }
    if (beyond >= window_) {
        return std::nullopt;
    }
    if (barrier) {
        if (groups_in_flight_ > 0) {
            return std::nullopt;
        }
        return 0;
    }
    bool every_key = std::find(keys.begin(), keys.end(), kEveryKey) != keys.end();
    if (every_key) {
        // Conflicts with every group in flight: behind the newest (ordered: it commits only
        // after all before it have); unordered, only once all of them are on one worker.
        std::optional<size_t> behind;
        for (auto it = groups_.rbegin(); it != groups_.rend(); ++it) {
            if (it->done || it->passthrough) {
                continue;
            }
            if (!behind) {
                behind = it->worker;
                if (ordered_) {
                    break;
                }
            } else if (*behind != it->worker) {
                return std::nullopt;
            }
        }
        if (behind) {
            if (shared != nullptr) {
                *shared = true;
            }
            return behind;
        }
    }
    const Holder* newest = nullptr;
    // Every group also conflicts with one in flight that holds every key.
    auto every = holders_.find(kEveryKey);
    if (every != holders_.end() && !every_key) {
        if (shared != nullptr) {
            *shared = true;
        }
        newest = &every->second;
    }
    // The newest group this one conflicts with, if any: it queues behind it.
    std::optional<std::pair<uint64_t, size_t>> behind;  // (seq, worker)
    if (newest != nullptr) {
        behind = {newest->seq, newest->worker};
    }
    for (uint64_t k : keys) {
        auto it = holders_.find(base(k));
        if (it == holders_.end()) {
            continue;
        }
        const Holder& h = it->second;
        // Held shared, it conflicts only with the groups that hold the key exclusively.
        std::pair<uint64_t, size_t> holder{h.seq, h.worker};
        if (held_shared(k)) {
            if (h.exclusive_count == 0) {
                continue;
            }
            holder = {h.exclusive_seq, h.exclusive_worker};
        }
        if (shared != nullptr) {
            *shared = true;
        }
        if (behind && behind->second != holder.second && !ordered_) {
            return std::nullopt;  // held by two workers: wait until one commits
        }
        if (!behind || holder.first > behind->first) {
            behind = holder;
        }
    }
    if (behind) {
        return behind->second;
    }
    // The least busy worker, lowest index first: light load stays on few connections (and
    // on worker 0, which keeps the plain checkpoint row fresh).
    size_t best = 0;
    for (size_t w = 1; w < active_; ++w) {
        if (workers_[w].pending.size() < workers_[best].pending.size()) {
            best = w;
        }
    }
    return best;
}

std::optional<size_t> Schedule::assign(const Keys& keys, bool barrier, OrdinalRange txns,
                                       const Position& end, std::chrono::milliseconds timeout,
                                       bool* shared, size_t rows, size_t bytes) {
    std::unique_lock lock(mu_);
    std::optional<size_t> worker;
    changed_.wait_for(lock, timeout, [&] {
        if (aborted_) {
            return true;
        }
        worker = choose(keys, barrier, rows, bytes, shared);
        return worker.has_value();
    });
    if (aborted_ || !worker) {
        return std::nullopt;
    }
    Group g;
    g.seq = next_seq_++;
    g.worker = *worker;
    g.txns = txns;
    g.end = end;
    g.keys = keys;
    g.barrier = barrier;
    g.rows = rows;
    g.bytes = bytes;
    rows_beyond_ += rows;
    bytes_beyond_ += bytes;
    for (uint64_t k : keys) {
        Holder& h = holders_[base(k)];
        h.worker = *worker;
        h.seq = g.seq;
        ++h.count;
        if (!held_shared(k)) {
            h.exclusive_worker = *worker;
            h.exclusive_seq = g.seq;
            ++h.exclusive_count;
        }
    }
    workers_[*worker].pending.push_back(g.seq);
    ++groups_in_flight_;
    barriers_in_flight_ += barrier ? 1 : 0;
    groups_.push_back(std::move(g));
    return worker;
}

void Schedule::finish(const Position& end, size_t rows) {
    std::lock_guard lock(mu_);
    for (auto it = groups_.rbegin(); it != groups_.rend(); ++it) {
        if (!it->passthrough) {
            it->end = end;
            it->rows += rows;
            rows_beyond_ += rows;
            return;
        }
    }
}

Position Schedule::pass(const Position& end) {
    std::lock_guard lock(mu_);
    if (groups_.empty()) {
        if (end.ordinal > prefix_.ordinal) {
            prefix_ = end;
        }
        return prefix_;
    }
    if (groups_.back().passthrough) {
        // Positions passed one after another while a group applies (keepalives, other
        // databases' transactions): only the last counts, and it keeps memory bounded.
        groups_.back().end = end;
        return prefix_;
    }
    Group g;
    g.seq = next_seq_++;
    g.end = end;
    g.passthrough = true;
    g.done = true;
    groups_.push_back(std::move(g));
    return prefix_;
}

Schedule::Group* Schedule::find(uint64_t seq) {
    if (groups_.empty() || seq < groups_.front().seq) {
        return nullptr;
    }
    size_t i = seq - groups_.front().seq;  // seqs are consecutive from the front
    return i < groups_.size() ? &groups_[i] : nullptr;
}

bool Schedule::first_in_line(size_t worker, size_t own_ahead) const {
    const WorkerState& ws = workers_[worker];
    if (ws.pending.size() <= own_ahead) {
        return own_ahead == 0;  // nothing of its own in flight (a group that wrote nothing)
    }
    // Groups leave the front once done, so the first ones not done are the next to commit.
    uint64_t mine = ws.pending[own_ahead];
    for (const Group& g : groups_) {
        if (g.done) {
            continue;
        }
        if (g.seq == mine) {
            return true;
        }
        if (g.worker != worker) {
            return false;
        }
    }
    return true;
}

Schedule::Turn Schedule::await_turn(size_t worker, std::chrono::milliseconds timeout,
                                    size_t own_ahead) {
    if (!ordered_) {
        return Turn::kReady;
    }
    std::unique_lock lock(mu_);
    bool ready = changed_.wait_for(lock, timeout,
                                   [&] { return aborted_ || first_in_line(worker, own_ahead); });
    if (aborted_) {
        return Turn::kAborted;
    }
    return ready ? Turn::kReady : Turn::kTimeout;
}

staging::WorkerRecord Schedule::record_for(size_t worker, OrdinalRange committing) const {
    std::lock_guard lock(mu_);
    staging::WorkerRecord r;
    r.prefix = prefix_.ordinal;
    for (const auto& [range, end] : workers_[worker].committed) {
        if (end > prefix_.ordinal) {
            r.ranges.push_back(range);
        }
    }
    r.ranges.push_back(committing);
    return r;
}

Position Schedule::advance_prefix() {
    while (!groups_.empty() && groups_.front().done) {
        if (groups_.front().end.ordinal > prefix_.ordinal) {
            prefix_ = std::move(groups_.front().end);
        }
        rows_beyond_ -= groups_.front().rows;
        bytes_beyond_ -= groups_.front().bytes;
        groups_.pop_front();
    }
    for (WorkerState& w : workers_) {
        std::erase_if(w.committed, [&](const auto& c) { return c.second <= prefix_.ordinal; });
    }
    return prefix_;
}

Position Schedule::committed(size_t worker, OrdinalRange committed) {
    std::lock_guard lock(mu_);
    WorkerState& ws = workers_[worker];
    Group* g = ws.pending.empty() ? nullptr : find(ws.pending.front());
    if (g == nullptr) {
        return prefix_;
    }
    if (committed.hi < g->txns.hi) {
        // Only part of the group committed (the worker is about to fail on the rest). Its
        // records must keep listing that part, but the prefix cannot pass the group.
        ws.committed.emplace_back(committed, Ordinal(std::numeric_limits<uint64_t>::max()));
        return prefix_;
    }
    ws.pending.pop_front();
    g->done = true;
    committed_rows_ += g->rows;
    --groups_in_flight_;
    barriers_in_flight_ -= g->barrier ? 1 : 0;
    for (uint64_t k : g->keys) {
        auto it = holders_.find(base(k));
        if (it == holders_.end()) {
            continue;
        }
        if (!held_shared(k)) {
            --it->second.exclusive_count;
        }
        if (--it->second.count == 0) {
            holders_.erase(it);
        }
    }
    g->keys.clear();
    ws.committed.emplace_back(g->txns, g->end.ordinal);
    advance_prefix();
    changed_.notify_all();
    return prefix_;
}

void Schedule::abort() {
    std::lock_guard lock(mu_);
    aborted_ = true;
    changed_.notify_all();
}

bool Schedule::aborted() const {
    std::lock_guard lock(mu_);
    return aborted_;
}

void Schedule::set_window(size_t window, size_t window_rows) {
    std::lock_guard lock(mu_);
    window_ = std::max<size_t>(window, 1);
    window_rows_ = window_rows;
    changed_.notify_all();
}

void Schedule::set_active(size_t workers) {
    std::lock_guard lock(mu_);
    active_ = std::clamp<size_t>(workers, 1, workers_.size());
    changed_.notify_all();
}

uint64_t Schedule::committed_rows() const {
    std::lock_guard lock(mu_);
    return committed_rows_;
}

Position Schedule::prefix() const {
    std::lock_guard lock(mu_);
    return prefix_;
}

size_t Schedule::in_flight() const {
    std::lock_guard lock(mu_);
    return groups_in_flight_;
}

size_t Schedule::in_flight(size_t worker) const {
    std::lock_guard lock(mu_);
    return workers_[worker].pending.size();
}

size_t Schedule::busy_workers() const {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(std::count_if(
        workers_.begin(), workers_.end(), [](const WorkerState& w) { return !w.pending.empty(); }));
}

}  // namespace rep::sequencer
