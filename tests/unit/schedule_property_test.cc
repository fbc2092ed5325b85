#include "sequencer/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace rep::sequencer {
namespace {

using namespace std::chrono_literals;

// Property tests of the Schedule (schedule_test.cc has the rules one by one): random groups
// over a small key space (heavy contention), each key held exclusively or shared, barriers
// and groups formed without their keys now and then, the dispatcher and a random worker
// taking turns at random. Whatever the order of events, every run finishes (no deadlock) and:
//   - a group starts (is first in its worker's queue) only once every earlier group it
//     conflicts with has committed (a key both hold, at least one exclusively; a barrier;
//     kEveryKey), so conflicting groups also commit in source order;
//   - with ordered commits every group commits in source order, so the prefix is always the
//     last commit's end;
//   - without, the prefix is always exactly the committed run from the start;
//   - a barrier is alone in flight (nothing is dispatched beside it); no more groups are
//     dispatched beyond the committed prefix than the window allows.

struct Group {
    Schedule::Keys keys;
    bool barrier = false;
};

Position at(size_t group) {  // a group's end: group i holds transaction i + 1
    return Position{Ordinal(group + 1), std::to_string(group + 1)};
}
OrdinalRange txn(size_t group) {
    return {Ordinal(group + 1), Ordinal(group + 1)};
}

std::vector<Group> random_groups(std::mt19937& rng, size_t n) {
    std::vector<Group> out(n);
    for (Group& g : out) {
        uint32_t kind = rng() % 60;
        if (kind == 0) {
            g.barrier = true;
        } else if (kind == 1) {
            g.keys = {Schedule::kEveryKey};
        } else {
            for (uint32_t k = 0, keys = 1 + rng() % 3; k < keys; ++k) {
                uint64_t key = 1 + rng() % 8;
                g.keys.push_back(rng() % 2 == 0 ? Schedule::shared(key) : key);
            }
            Schedule::normalize(g.keys);
        }
    }
    return out;
}

bool conflict(const Group& a, const Group& b) {
    if (a.barrier || b.barrier) {
        return true;
    }
    auto every = [](const Group& g) {
        return std::find(g.keys.begin(), g.keys.end(), Schedule::kEveryKey) != g.keys.end();
    };
    if (every(a) || every(b)) {
        return true;
    }
    for (uint64_t ka : a.keys) {
        for (uint64_t kb : b.keys) {
            if (Schedule::base(ka) == Schedule::base(kb) &&
                !(Schedule::is_shared(ka) && Schedule::is_shared(kb))) {
                return true;
            }
        }
    }
    return false;
}

void run(uint32_t seed, bool ordered, size_t workers, size_t window) {
    SCOPED_TRACE("seed " + std::to_string(seed) + (ordered ? ", ordered" : ", unordered") + ", " +
                 std::to_string(workers) + " workers, window " + std::to_string(window));
    std::mt19937 rng(seed);
    constexpr size_t kGroups = 300;
    std::vector<Group> groups = random_groups(rng, kGroups);
    Schedule s(workers, window, Position{Ordinal(0), "0"}, ordered);
    std::vector<std::deque<size_t>> queued(workers);  // each worker's groups, oldest first
    std::vector<size_t> commit_rank(kGroups, SIZE_MAX);
    std::vector<bool> done(kGroups, false);
    size_t next = 0;
    size_t commits = 0;
    size_t prefix_run = 0;                // groups committed from the start without a gap
    size_t barrier_in_flight = SIZE_MAX;  // the barrier dispatched and not committed
    size_t idle_steps = 0;
    // A group first in its worker's queue starts executing: every earlier group it conflicts
    // with must have committed by then.
    auto starts = [&](size_t g) {
        for (size_t e = 0; e < g; ++e) {
            if (!done[e] && conflict(groups[e], groups[g])) {
                ADD_FAILURE() << "group " << g << " started before group " << e
                              << ", which it conflicts with, committed";
            }
        }
    };
    while (commits < kGroups) {
        // Nothing could move for this many random steps in a row: a deadlock.
        ASSERT_LT(idle_steps, 2000u) << "stuck after " << commits << " commits";
        bool moved = false;
        if (next < kGroups && rng() % 2 == 0) {
            const Group& g = groups[next];
            if (auto w = s.assign(g.keys, g.barrier, txn(next), at(next), 0ms)) {
                ASSERT_LT(*w, workers);
                queued[*w].push_back(next);
                if (queued[*w].size() == 1) {
                    starts(next);
                }
                EXPECT_EQ(barrier_in_flight, SIZE_MAX)
                    << "group " << next << " dispatched while barrier " << barrier_in_flight
                    << " was in flight";
                if (g.barrier) {
                    EXPECT_EQ(s.in_flight(), 1u) << "barrier " << next << " not alone";
                    barrier_in_flight = next;
                }
                // Committed groups beyond the prefix count against the window too.
                EXPECT_LE(next + 1 - prefix_run, window) << "group " << next;
                ++next;
                moved = true;
            }
        }
        size_t w = rng() % workers;
        if (!queued[w].empty() && s.await_turn(w, 0ms) == Schedule::Turn::kReady) {
            size_t g = queued[w].front();
            queued[w].pop_front();
            Position prefix = s.committed(w, txn(g));
            done[g] = true;
            commit_rank[g] = commits++;
            if (g == barrier_in_flight) {
                barrier_in_flight = SIZE_MAX;
            }
            if (!queued[w].empty()) {
                starts(queued[w].front());
            }
            while (prefix_run < kGroups && done[prefix_run]) {
                ++prefix_run;
            }
            EXPECT_EQ(prefix.ordinal, Ordinal(prefix_run)) << "after group " << g;
            if (ordered) {
                EXPECT_EQ(commit_rank[g], g) << "group " << g << " committed out of order";
            }
            moved = true;
        }
        idle_steps = moved ? 0 : idle_steps + 1;
    }
    EXPECT_EQ(s.in_flight(), 0u);
    EXPECT_EQ(s.prefix().ordinal, Ordinal(kGroups));
    for (size_t a = 0; a < kGroups; ++a) {
        for (size_t b = a + 1; b < kGroups; ++b) {
            if (conflict(groups[a], groups[b])) {
                ASSERT_LT(commit_rank[a], commit_rank[b])
                    << "conflicting groups " << a << " and " << b << " committed out of order";
            }
        }
    }
}

TEST(ScheduleProperties, OrderedCommitsKeepSourceOrderAndNeverStick) {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        for (size_t workers : {size_t{1}, size_t{2}, size_t{4}, size_t{16}}) {
            run(seed, /*ordered=*/true, workers, 2 * workers + 2);
        }
    }
}

TEST(ScheduleProperties, UnorderedCommitsKeepConflictingGroupsInOrderAndNeverStick) {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        for (size_t workers : {size_t{2}, size_t{4}, size_t{16}}) {
            run(seed, /*ordered=*/false, workers, 2 * workers + 2);
        }
    }
}

TEST(ScheduleProperties, ASmallWindowStillFinishes) {
    for (uint32_t seed = 1; seed <= 10; ++seed) {
        run(seed, /*ordered=*/true, 8, 1);
        run(seed, /*ordered=*/false, 8, 2);
    }
}

}  // namespace
}  // namespace rep::sequencer
