#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace rep::sequencer {

// How many of the --parallelism apply workers take groups that are free to go anywhere
// (docs/architecture.md §2.8, "Adaptive parallelism"). A group that shares keys with one in
// flight still queues behind it, on whichever worker that is; only the choice of an idle
// worker is limited. Pure: the dispatcher feeds it a clock and a running count of committed
// rows, so it is unit-tested directly.
//
// More connections help while target transactions mostly wait (a distant target, a
// consensus round per commit) and hurt once the cores that execute them are saturated (more
// backends competing for them, more hand-offs between threads): on a 2-core machine with
// source and target beside the replicator, 16 connections applied a backlog 7-18% slower
// than 1 or 2, and with the target 10 ms away 4 connections beat both 1 and 16 by 30%. Where
// the optimum lies is not known in advance, and a remote target's cores cannot be seen from
// here, so the limit climbs on what it is for: the rate at which rows commit while the source
// has a backlog.
//
// The limit moves over 1, 2, 4, ... up to the number of workers, starting at 4 (or at the
// number of workers if lower). It stays at
// a level for a few samples, then probes a neighbour for kProbeSamples; it moves there when
// the neighbour commits at least kGain faster, or, downwards, no more than kLoss slower
// (fewer connections for the same rate), and then probes on in the same direction. A probe
// that fails makes the next one in that direction wait twice as long, up to kMaxPatience
// samples, so a settled limit costs little. Samples count only while the source has a
// backlog for at least half of their time (the dispatcher says when: dispatcher.cc): keeping
// up with the source, every level commits at the source's rate, and nothing can be learnt.
//
// One thing is known in advance when the target runs on this machine: its backends use the
// same cores as the replicator (and, mostly, the source). While those cores are saturated,
// more connections can only compete for them: if they are during the first sample that
// counts, the limit goes straight to 1 (on 2 cores, the probes from 4 down to 1 took about
// 2 s of an 8 s catch-up) and probes upwards first after kMaxPatience samples (12 s); while
// they stay saturated, a probe upwards moves it only for a clear gain (kSaturatedGain). Noise
// of +-8% per sample had otherwise carried it up to 2 and 4 now and then, and each probe cost
// several percent. It still probes: "on this machine" may be a proxy (pgbouncer, a sidecar)
// in front of a distant target, on a machine that other work keeps busy, and there more
// connections help a lot. A target elsewhere, or cores to spare, start at kStart: the round
// trip alone says nothing (a CockroachDB gateway in the same zone answers quickly and still
// pays a consensus round per commit).
class WorkerLimit {
public:
    using Clock = std::chrono::steady_clock;
    // The fraction of time the cores were busy since its previous call (nullopt: unknown);
    // called once at the end of every sample.
    using CoreBusy = std::function<std::optional<double>()>;

    static constexpr Clock::duration kSample = std::chrono::milliseconds(250);
    static constexpr size_t kStart = 4;
    static constexpr double kGain = 0.05;
    static constexpr double kLoss = 0.03;
    static constexpr size_t kSettle = 3;  // samples at a level before the first probe
    static constexpr size_t kProbeSamples = 2;
    static constexpr size_t kMaxPatience = 48;
    // Busy at least this share of the time (a moving average over the samples that counted):
    // the cores are saturated. Not 0.9: on 2 cores, commits that wait for the disk and the
    // hand-offs between source, replicator and target leave up to a quarter idle even while
    // more connections only compete for them.
    static constexpr double kSaturated = 0.75;
    // The gain a probe upwards must show while they are.
    static constexpr double kSaturatedGain = 0.15;

    // `start`: the level to begin at (the highest at or below it). `shared_cores`, given when
    // the target runs on this machine, says how busy its cores are.
    explicit WorkerLimit(size_t workers, size_t start = kStart, CoreBusy shared_cores = {});

    size_t limit() const { return levels_[current_]; }
    // The target's cores (this machine's) were saturated, as judged at the last sample that
    // counted.
    bool saturated() const { return busy_ && *busy_ >= kSaturated; }
    // What the dispatcher sees, as often as it likes: `committed_rows` is a running total,
    // `backlog` whether the source had a backlog since the previous call (the time between
    // the calls is weighed, so a long wait for the workers counts as long).
    void observe(Clock::time_point now, uint64_t committed_rows, bool backlog);

private:
    void sample_done(double rate);
    void move_to(size_t level);

    std::vector<size_t> levels_;  // 1, 2, 4, ..., workers
    size_t current_ = 0;          // index into levels_ in use now
    size_t settled_ = 0;          // the level being compared against while probing
    bool probing_ = false;
    int direction_ = -1;                                // of the next probe
    std::array<size_t, 2> patience_{kSettle, kSettle};  // down, up
    double base_rate_ = 0;                              // of the settled level
    size_t samples_ = 0;  // at the current level (settled) or of the probe
    double probe_sum_ = 0;
    bool skip_ = false;  // the first sample after a move sees groups placed before it
    CoreBusy shared_cores_;
    bool placed_ = false;         // the first sample that counted has been taken
    std::optional<double> busy_;  // moving average of the samples that counted

    bool sampling_ = false;
    Clock::time_point sample_start_;
    uint64_t sample_rows_ = 0;
    Clock::time_point last_look_;
    Clock::duration backlog_time_{};
};

}  // namespace rep::sequencer
