#include "sequencer/worker_limit.h"

#include <algorithm>
#include <utility>

namespace rep::sequencer {

WorkerLimit::WorkerLimit(size_t workers, size_t start, CoreBusy shared_cores)
    : shared_cores_(std::move(shared_cores)) {
    workers = std::max<size_t>(workers, 1);
    for (size_t n = 1; n < workers; n *= 2) {
        levels_.push_back(n);
    }
    levels_.push_back(workers);
    current_ = 0;
    while (current_ + 1 < levels_.size() && levels_[current_ + 1] <= start) {
        ++current_;
    }
    settled_ = current_;
}

void WorkerLimit::observe(Clock::time_point now, uint64_t committed_rows, bool backlog) {
    if (levels_.size() == 1) {
        return;
    }
    if (!sampling_) {
        sampling_ = true;
        sample_start_ = last_look_ = now;
        sample_rows_ = committed_rows;
        backlog_time_ = Clock::duration::zero();
        return;
    }
    backlog_time_ += backlog ? now - last_look_ : Clock::duration::zero();
    last_look_ = now;
    if (now - sample_start_ < kSample) {
        return;
    }
    sampling_ = false;
    // Since the end of the previous sample, a millisecond or so before this one began.
    std::optional<double> busy;
    if (shared_cores_) {
        busy = shared_cores_();
    }
    if (2 * backlog_time_ < now - sample_start_) {
        return;  // mostly keeping up with the source: the rate says nothing about the limit
    }
    if (committed_rows == sample_rows_) {
        // Nothing committed (a target outage, one long transaction): no rate to compare, and
        // 0 against 0 would pass any probe.
        return;
    }
    if (skip_) {
        skip_ = false;
        return;
    }
    if (busy) {
        // One sample's reading is coarse (clock ticks) and noisy: judge on a moving average,
        // each new reading weighing half. The first decision (below) has one reading only.
        // A sample without a reading keeps the average so far.
        busy_ = busy_ ? (*busy_ + *busy) / 2 : *busy;
    }
    if (!placed_) {
        placed_ = true;
        if (saturated() && current_ > 0) {
            // Settled at 1, the next probe upwards (class comment).
            move_to(0);
            settled_ = 0;
            probing_ = false;
            direction_ = 1;
            // The first probe upwards comes late: one costs more than its own samples (groups
            // formed without keys at 1 must commit before any goes to a second connection,
            // and back again), and two in an 8 s catch-up made it 10% slower.
            patience_[1] = kMaxPatience;
            base_rate_ = 0;
            return;
        }
    }
    double seconds = std::chrono::duration<double>(now - sample_start_).count();
    sample_done(static_cast<double>(committed_rows - sample_rows_) / seconds);
}

void WorkerLimit::move_to(size_t level) {
    current_ = level;
    samples_ = 0;
    probe_sum_ = 0;
    skip_ = true;
}

void WorkerLimit::sample_done(double rate) {
    size_t way = direction_ < 0 ? 0 : 1;
    if (probing_) {
        probe_sum_ += rate;
        if (++samples_ < kProbeSamples) {
            return;
        }
        double probe_rate = probe_sum_ / static_cast<double>(kProbeSamples);
        probing_ = false;
        // Upwards while the target's cores (ours) are saturated, only a clear gain counts:
        // another connection should only compete for them, and noise alone passes kGain.
        bool clearly = current_ > settled_ && saturated();
        bool faster = probe_rate >= base_rate_ * (1 + (clearly ? kSaturatedGain : kGain));
        bool as_fast_with_fewer = current_ < settled_ && probe_rate >= base_rate_ * (1 - kLoss);
        if (faster || as_fast_with_fewer) {
            // Keep it, and look further the same way soon.
            settled_ = current_;
            base_rate_ = probe_rate;
            samples_ = kProbeSamples;
            patience_[way] = kSettle;
            return;
        }
        patience_[way] = std::min(2 * patience_[way], kMaxPatience);
        direction_ = -direction_;
        move_to(settled_);
        base_rate_ = 0;
        return;
    }
    // Settled: the rate to beat follows the recent samples (the workload changes).
    base_rate_ = samples_ == 0 ? rate : (base_rate_ + rate) / 2;
    ++samples_;
    if (samples_ < patience_[way]) {
        return;
    }
    if ((direction_ < 0 && current_ == 0) || (direction_ > 0 && current_ + 1 == levels_.size())) {
        direction_ = -direction_;  // nowhere to go this way: probe the other next time
        return;
    }
    settled_ = current_;
    probing_ = true;
    move_to(direction_ < 0 ? current_ - 1 : current_ + 1);
}

}  // namespace rep::sequencer
