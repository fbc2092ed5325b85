#include "sequencer/schedule.h"

#include <gtest/gtest.h>

#include <thread>

namespace rep::sequencer {
namespace {

using namespace std::chrono_literals;

// A position whose text spells its ordinal, as a source's would.
Position L(uint64_t v) {
    return Position{Ordinal(v), std::to_string(v)};
}
OrdinalRange R(uint64_t lo, uint64_t hi) {
    return {Ordinal(lo), Ordinal(hi)};
}

TEST(Schedule, IndependentGroupsSpreadOverIdleWorkers) {
    Schedule s(3, 10, L(0));
    EXPECT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    EXPECT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    EXPECT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms), 2u);
    EXPECT_EQ(s.busy_workers(), 3u);
}

TEST(Schedule, ConflictingGroupQueuesBehindTheHolder) {
    Schedule s(3, 10, L(0));
    EXPECT_EQ(s.assign({1, 2}, false, R(10, 10), L(11), 0ms), 0u);
    EXPECT_EQ(s.assign({3}, false, R(20, 20), L(21), 0ms), 1u);
    // Shares key 2 with worker 0's group: same worker, so it runs after it.
    EXPECT_EQ(s.assign({2, 9}, false, R(30, 30), L(31), 0ms), 0u);
    EXPECT_EQ(s.in_flight(0), 2u);
}

TEST(Schedule, WithOrderedCommitsAGroupHeldByTwoWorkersQueuesBehindTheNewer) {
    Schedule s(3, 10, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    // Worker 1's group commits after worker 0's, so behind it both keys are free.
    EXPECT_EQ(s.assign({1, 2}, false, R(30, 30), L(31), 0ms), 1u);
    // Key 1 is now held by groups on two workers; the newest (30) decides.
    EXPECT_EQ(s.assign({1}, false, R(40, 40), L(41), 0ms), 1u);
    s.committed(0, R(10, 10));
    EXPECT_EQ(s.assign({1, 7}, false, R(50, 50), L(51), 0ms), 1u);
}

TEST(Schedule, WithUnorderedCommitsAGroupHeldByTwoWorkersWaitsForOneToCommit) {
    Schedule s(3, 10, L(0), /*ordered=*/false);
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    EXPECT_EQ(s.assign({1, 2}, false, R(30, 30), L(31), 0ms), std::nullopt);
    s.committed(0, R(10, 10));
    // Only worker 1 holds a key now.
    EXPECT_EQ(s.assign({1, 2}, false, R(30, 30), L(31), 0ms), 1u);
}

TEST(Schedule, ReportsWhetherAGroupSharedKeysWithAnUncommittedOne) {
    Schedule s(3, 10, L(0), /*ordered=*/false);
    bool shared = false;
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms, &shared), 0u);
    EXPECT_FALSE(shared);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms, &shared), 1u);
    EXPECT_FALSE(shared);
    // Queued behind the holder.
    ASSERT_EQ(s.assign({1, 5}, false, R(30, 30), L(31), 0ms, &shared), 0u);
    EXPECT_TRUE(shared);
    // Held by two workers: not placed yet, and the flag stays set for the retry.
    shared = false;
    EXPECT_EQ(s.assign({1, 2}, false, R(40, 40), L(41), 0ms, &shared), std::nullopt);
    EXPECT_TRUE(shared);
    s.committed(0, R(10, 10));
    s.committed(0, R(30, 30));
    s.committed(1, R(20, 20));
    EXPECT_EQ(s.assign({1, 2}, false, R(40, 40), L(41), 0ms, &shared), 0u);
    EXPECT_TRUE(shared);
    // Once everything has committed the same keys are free.
    s.committed(0, R(40, 40));
    shared = false;
    EXPECT_TRUE(s.assign({1, 2}, false, R(50, 50), L(51), 0ms, &shared).has_value());
    EXPECT_FALSE(shared);
}

// A group formed without its keys (Schedule::kEveryKey) conflicts with every group in flight
// and every group after it, until it has committed; then groups spread again.
TEST(Schedule, AGroupHoldingEveryKeyQueuesBehindTheNewestAndHoldsBackTheRest) {
    constexpr uint64_t kEvery = Schedule::kEveryKey;
    Schedule s(3, 10, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    bool shared = false;
    // Behind the newest group in flight (worker 1's), which commits after all before it.
    EXPECT_EQ(s.assign({kEvery}, false, R(30, 30), L(31), 0ms, &shared), 1u);
    EXPECT_TRUE(shared);
    // A group with keys no one holds still queues behind it, on its worker.
    shared = false;
    EXPECT_EQ(s.assign({7}, false, R(40, 40), L(41), 0ms, &shared), 1u);
    EXPECT_TRUE(shared);
    s.committed(0, R(10, 10));
    s.committed(1, R(20, 20));
    s.committed(1, R(30, 30));  // the keyless group: nothing holds every key any more
    EXPECT_EQ(s.assign({8}, false, R(50, 50), L(51), 0ms), 0u);  // independent again
    EXPECT_EQ(s.assign({7}, false, R(60, 60), L(61), 0ms), 1u);  // behind [40,40]
    s.committed(1, R(40, 40));
    s.committed(0, R(50, 50));
    s.committed(1, R(60, 60));
    // With nothing in flight it goes to the first worker, like any independent group.
    EXPECT_EQ(s.assign({3, kEvery}, false, R(70, 70), L(71), 0ms), 0u);
}

// The dispatcher's transitions: keyed groups spread over four workers, the limit drops to
// one and keyless groups follow the newest; the limit rises again, and keyed groups, even
// independent ones, stay behind the keyless ones until the last has committed.
TEST(Schedule, KeylessGroupsBetweenChangesOfTheLimitAreNeverOvertaken) {
    constexpr uint64_t kEvery = Schedule::kEveryKey;
    Schedule s(4, 20, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    ASSERT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms), 2u);
    s.set_active(1);
    EXPECT_EQ(s.assign({kEvery}, false, R(40, 40), L(41), 0ms), 2u);  // behind the newest
    s.committed(0, R(10, 10));
    EXPECT_EQ(s.assign({kEvery}, false, R(50, 50), L(51), 0ms), 2u);
    s.set_active(4);
    // A key no one holds, and one held by an older group on worker 1: both behind the
    // newest keyless group, the newer of their holders.
    EXPECT_EQ(s.assign({9}, false, R(60, 60), L(61), 0ms), 2u);
    EXPECT_EQ(s.assign({2, 4}, false, R(70, 70), L(71), 0ms), 2u);
    s.committed(1, R(20, 20));
    s.committed(2, R(30, 30));
    s.committed(2, R(40, 40));
    EXPECT_EQ(s.assign({5}, false, R(80, 80), L(81), 0ms), 2u);  // [50,50] is still in flight
    s.committed(2, R(50, 50));
    EXPECT_EQ(s.assign({6}, false, R(90, 90), L(91), 0ms), 0u);  // free to go anywhere again
    // Keys in any order: the keyless mark is found wherever it is.
    EXPECT_EQ(s.assign({kEvery, 1}, false, R(100, 100), L(101), 0ms), 0u);
}

TEST(Schedule, WithUnorderedCommitsAGroupHoldingEveryKeyWaitsUntilOneWorkerHoldsTheRest) {
    constexpr uint64_t kEvery = Schedule::kEveryKey;
    Schedule s(2, 10, L(0), /*ordered=*/false);
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    EXPECT_EQ(s.assign({kEvery}, false, R(30, 30), L(31), 0ms), std::nullopt);
    s.committed(0, R(10, 10));
    EXPECT_EQ(s.assign({kEvery}, false, R(30, 30), L(31), 0ms), 1u);
}

// The window also bounds the bytes of values beyond the committed prefix: wide rows make
// fewer groups go at once. A group wider than the window alone still goes.
TEST(Schedule, TheWindowBoundsBytesToo) {
    Schedule s(3, 10, L(0), true, 1000000, /*window_bytes=*/1000);
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms, nullptr, 1, 600), 0u);
    EXPECT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms, nullptr, 1, 600), std::nullopt);
    EXPECT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms, nullptr, 1, 300), 1u);
    s.committed(0, R(10, 10));
    s.committed(1, R(20, 20));
    EXPECT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms, nullptr, 1, 5000), 0u);
}

TEST(Schedule, PrefixMovesOnlyOverContiguousCommits) {
    Schedule s(2, 10, L(5));
    s.assign({1}, false, R(10, 10), L(11), 0ms);  // worker 0
    s.assign({2}, false, R(20, 20), L(21), 0ms);  // worker 1
    EXPECT_EQ(s.committed(1, R(20, 20)), L(5));   // the later group first: no move
    EXPECT_EQ(s.prefix(), L(5));
    EXPECT_EQ(s.committed(0, R(10, 10)), L(21));  // now both
}

TEST(Schedule, PassthroughJoinsThePrefixInOrder) {
    Schedule s(2, 10, L(0));
    EXPECT_EQ(s.pass(L(3)), L(3));  // nothing in flight: at once
    s.assign({1}, false, R(10, 10), L(11), 0ms);
    EXPECT_EQ(s.pass(L(15)), L(3));  // a keepalive after an uncommitted group waits for it
    EXPECT_EQ(s.committed(0, R(10, 10)), L(15));
}

TEST(Schedule, PositionsPassedBehindAGroupJoinThePrefixInOrder) {
    Schedule s(2, 10, L(0));
    s.assign({1}, false, R(10, 10), L(11), 0ms);
    for (uint64_t p = 12; p < 10000; ++p) {
        s.pass(L(p));  // e.g. keepalives while the group applies: kept as one
    }
    s.assign({2}, false, R(10000, 10000), L(10001), 0ms);
    s.pass(L(10002));
    EXPECT_EQ(s.committed(0, R(10, 10)), L(9999));
    EXPECT_EQ(s.committed(1, R(10000, 10000)), L(10002));
}

TEST(Schedule, RecordsListOwnGroupsBeyondThePrefix) {
    Schedule s(2, 10, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);  // slow
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    ASSERT_EQ(s.assign({2}, false, R(30, 30), L(31), 0ms), 1u);  // behind [20,20]
    EXPECT_EQ(s.record_for(1, R(20, 20)), (staging::WorkerRecord{Ordinal(0), {R(20, 20)}}));
    s.committed(1, R(20, 20));
    // [20,20] committed beyond the prefix: worker 1's next record must still list it.
    EXPECT_EQ(s.record_for(1, R(30, 30)),
              (staging::WorkerRecord{Ordinal(0), {R(20, 20), R(30, 30)}}));
    s.committed(0, R(10, 10));
    // The prefix passed [20,20] (ends at 21): no longer listed.
    EXPECT_EQ(s.record_for(1, R(30, 30)), (staging::WorkerRecord{Ordinal(21), {R(30, 30)}}));
}

TEST(Schedule, PartialCommitIsRecordedButDoesNotCompleteTheGroup) {
    Schedule s(2, 10, L(0));
    s.assign({1}, false, R(10, 30), L(31), 0ms);
    EXPECT_EQ(s.committed(0, R(10, 20)), L(0));
    EXPECT_EQ(s.in_flight(), 1u);
    staging::WorkerRecord r = s.record_for(0, R(25, 25));
    EXPECT_EQ(r.ranges, (std::vector<OrdinalRange>{R(10, 20), R(25, 25)}));
}

TEST(Schedule, BarrierRunsAlone) {
    Schedule s(3, 10, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    EXPECT_EQ(s.assign({}, true, R(20, 20), Position(), 0ms), std::nullopt);  // waits for idle
    s.committed(0, R(10, 10));
    EXPECT_EQ(s.assign({}, true, R(20, 20), Position(), 0ms), 0u);
    EXPECT_EQ(s.assign({7}, false, R(30, 30), L(31), 0ms), std::nullopt);  // nothing beside it
    s.finish(L(25));
    EXPECT_EQ(s.committed(0, R(20, 20)), L(25));
    EXPECT_EQ(s.assign({7}, false, R(30, 30), L(31), 0ms), 0u);
}

TEST(Schedule, WindowBoundsGroupsBeyondThePrefix) {
    Schedule s(4, 3, L(0));
    s.assign({1}, false, R(10, 10), L(11), 0ms);
    s.assign({2}, false, R(20, 20), L(21), 0ms);
    s.assign({3}, false, R(30, 30), L(31), 0ms);
    EXPECT_EQ(s.assign({4}, false, R(40, 40), L(41), 0ms), std::nullopt);
    // Committed but beyond the prefix still counts: its range is carried in the records.
    s.committed(1, R(20, 20));
    EXPECT_EQ(s.assign({4}, false, R(40, 40), L(41), 0ms), std::nullopt);
    s.committed(0, R(10, 10));
    EXPECT_TRUE(s.assign({4}, false, R(40, 40), L(41), 0ms).has_value());
}

// Groups grow large while others are in flight: the window also bounds the rows beyond the
// prefix, so memory does not grow with them. A group larger than the whole window still goes
// once nothing else is beyond the prefix, or it would wait forever.
TEST(Schedule, WindowBoundsRowsBeyondThePrefix) {
    Schedule s(4, 10, L(0), /*ordered=*/true, /*window_rows=*/1000);
    EXPECT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms, nullptr, 600), 0u);
    EXPECT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms, nullptr, 400), 1u);
    EXPECT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms, nullptr, 1), std::nullopt);
    // Committed beyond the prefix still holds its rows (the prefix cannot pass group 1).
    s.committed(1, R(20, 20));
    EXPECT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms, nullptr, 1), std::nullopt);
    s.committed(0, R(10, 10));
    EXPECT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms, nullptr, 900), 0u);
    EXPECT_EQ(s.assign({4}, false, R(40, 40), L(41), 0ms, nullptr, 101), std::nullopt);
    s.committed(0, R(30, 30));
    EXPECT_EQ(s.assign({4}, false, R(40, 40), L(41), 0ms, nullptr, 5000), 0u);
}

// The dispatcher narrows the window with the active workers: a smaller window holds back new
// groups while those already beyond it commit, and a wider one admits them at once.
TEST(Schedule, TheWindowCanChange) {
    Schedule s(4, 10, L(0), /*ordered=*/true, /*window_rows=*/10000);
    for (uint64_t g = 1; g <= 4; ++g) {
        ASSERT_TRUE(s.assign({g}, false, R(10 * g, 10 * g), L(10 * g + 1), 0ms, nullptr, 100));
    }
    s.set_window(2, 10000);
    EXPECT_EQ(s.assign({5}, false, R(50, 50), L(51), 0ms, nullptr, 100), std::nullopt);
    s.committed(0, R(10, 10));
    s.committed(1, R(20, 20));
    s.committed(2, R(30, 30));
    EXPECT_EQ(s.assign({5}, false, R(50, 50), L(51), 0ms, nullptr, 100), 0u);
    EXPECT_EQ(s.assign({6}, false, R(60, 60), L(61), 0ms, nullptr, 100), std::nullopt);
    // In rows as well.
    s.set_window(10, 150);
    EXPECT_EQ(s.assign({6}, false, R(60, 60), L(61), 0ms, nullptr, 100), std::nullopt);
    s.set_window(10, 300);
    EXPECT_TRUE(s.assign({6}, false, R(60, 60), L(61), 0ms, nullptr, 100).has_value());
}

// A group whose key a worker beyond the active ones holds still goes to that worker, once a
// narrowed window has room.
TEST(Schedule, AHolderBeyondTheActiveWorkersGetsItsGroupWhenTheWindowHasRoom) {
    Schedule s(4, 10, L(0));
    for (uint64_t g = 1; g <= 4; ++g) {
        ASSERT_EQ(s.assign({g}, false, R(10 * g, 10 * g), L(10 * g + 1), 0ms), g - 1);
    }
    s.set_active(1);
    s.set_window(4, 1000000);
    EXPECT_EQ(s.assign({4}, false, R(50, 50), L(51), 0ms), std::nullopt);  // the window is full
    s.committed(0, R(10, 10));
    EXPECT_EQ(s.assign({4}, false, R(50, 50), L(51), 0ms), 3u);
}

// The adaptive limit narrows where independent groups go, never where a key's groups go.
TEST(Schedule, ActiveWorkersTakeIndependentGroupsButKeysStayWithTheirHolder) {
    Schedule s(4, 20, L(0));
    EXPECT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    EXPECT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    EXPECT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms), 2u);
    s.set_active(2);
    // Independent: the less busy of workers 0 and 1 only.
    EXPECT_EQ(s.assign({4}, false, R(40, 40), L(41), 0ms), 0u);
    EXPECT_EQ(s.assign({5}, false, R(50, 50), L(51), 0ms), 1u);
    // Key 3 is held on worker 2, beyond the limit: it still queues there.
    EXPECT_EQ(s.assign({3, 6}, false, R(60, 60), L(61), 0ms), 2u);
    s.set_active(0);  // clamped to 1
    EXPECT_EQ(s.assign({7}, false, R(70, 70), L(71), 0ms), 0u);
    s.set_active(99);  // clamped to the workers
    EXPECT_EQ(s.assign({8}, false, R(80, 80), L(81), 0ms), 3u);
}

TEST(Schedule, OrderedCommitsWaitForEveryEarlierGroup) {
    Schedule s(3, 10, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    s.pass(L(25));  // a position with nothing to apply does not hold anyone up
    ASSERT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms), 2u);
    EXPECT_EQ(s.await_turn(1, 0ms), Schedule::Turn::kTimeout);
    EXPECT_EQ(s.await_turn(2, 0ms), Schedule::Turn::kTimeout);
    EXPECT_EQ(s.await_turn(0, 0ms), Schedule::Turn::kReady);
    s.committed(0, R(10, 10));
    EXPECT_EQ(s.await_turn(1, 0ms), Schedule::Turn::kReady);
    EXPECT_EQ(s.await_turn(2, 0ms), Schedule::Turn::kTimeout);
    // A partial commit (a salvage about to fail) does not let later groups commit.
    s.committed(1, R(20, 19));
    EXPECT_EQ(s.await_turn(2, 0ms), Schedule::Turn::kTimeout);
    s.committed(1, R(20, 20));
    EXPECT_EQ(s.await_turn(2, 0ms), Schedule::Turn::kReady);
}

TEST(Schedule, AGroupMayGoOutBehindItsWorkersOwnUncommittedGroupOnly) {
    // Chaining: a worker may send a group's COMMIT behind its own earlier group's unanswered
    // one, when no other worker's group lies between them.
    Schedule s(2, 10, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({1}, false, R(20, 20), L(21), 0ms), 0u);  // behind 10
    ASSERT_EQ(s.assign({2}, false, R(30, 30), L(31), 0ms), 1u);
    ASSERT_EQ(s.assign({1}, false, R(40, 40), L(41), 0ms), 0u);
    EXPECT_EQ(s.await_turn(0, 0ms, 1), Schedule::Turn::kReady) << "20 is right behind 10";
    EXPECT_EQ(s.await_turn(1, 0ms, 0), Schedule::Turn::kTimeout);
    s.committed(0, R(10, 10));
    // 40 has 30, of another worker, before it: not even with 20 sent.
    EXPECT_EQ(s.await_turn(0, 0ms, 1), Schedule::Turn::kTimeout);
    EXPECT_EQ(s.await_turn(0, 0ms, 2), Schedule::Turn::kTimeout) << "it has no third group";
    s.committed(0, R(20, 20));
    s.committed(1, R(30, 30));
    EXPECT_EQ(s.await_turn(0, 0ms, 0), Schedule::Turn::kReady);
    EXPECT_EQ(s.await_turn(0, 0ms, 1), Schedule::Turn::kTimeout) << "it has no second group";
}

TEST(Schedule, TurnWaitWakesOnTheEarlierCommitAndOnAbort) {
    Schedule s(2, 10, L(0));
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    std::thread commit([&] {
        std::this_thread::sleep_for(50ms);
        s.committed(0, R(10, 10));
    });
    EXPECT_EQ(s.await_turn(1, 10s), Schedule::Turn::kReady);
    commit.join();
    ASSERT_EQ(s.assign({3}, false, R(30, 30), L(31), 0ms), 0u);
    EXPECT_EQ(s.await_turn(0, 0ms), Schedule::Turn::kTimeout) << "group 20 is still before it";
    std::thread abort([&] {
        std::this_thread::sleep_for(50ms);
        s.abort();
    });
    EXPECT_EQ(s.await_turn(0, 10s), Schedule::Turn::kAborted);
    abort.join();
}

TEST(Schedule, UnorderedCommitsNeverWait) {
    Schedule s(2, 10, L(0), /*ordered=*/false);
    ASSERT_EQ(s.assign({1}, false, R(10, 10), L(11), 0ms), 0u);
    ASSERT_EQ(s.assign({2}, false, R(20, 20), L(21), 0ms), 1u);
    EXPECT_EQ(s.await_turn(1, 0ms), Schedule::Turn::kReady);
}

TEST(Schedule, WaitingAssignWakesOnCommitAndAbort) {
    Schedule s(2, 10, L(0));
    s.assign({1}, false, R(10, 10), L(11), 0ms);
    s.assign({2}, false, R(20, 20), L(21), 0ms);
    std::thread committer([&] {
        std::this_thread::sleep_for(50ms);
        s.committed(0, R(10, 10));
    });
    EXPECT_EQ(s.assign({1, 2}, false, R(30, 30), L(31), 5s), 1u);
    committer.join();
    std::thread aborter([&] {
        std::this_thread::sleep_for(50ms);
        s.abort();
    });
    EXPECT_EQ(s.assign({}, true, R(40, 40), Position(), 5s), std::nullopt);
    aborter.join();
}

}  // namespace
}  // namespace rep::sequencer
