#include "util/this_machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

namespace rep::util {
namespace {

// /proc/stat as Linux 6.1 writes it (two cores; the first line sums them).
constexpr std::string_view kStat =
    "cpu  300 0 100 500 100 0 0 0 0 0\n"
    "cpu0 100 0 50 300 50 0 0 0 0 0\n"
    "cpu1 200 0 50 200 50 10 5 5 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n";

TEST(ThisMachine, ProcStatReadsTheListedCoresWithIowaitAsIdle) {
    std::vector<CoreTimes> both = parse_proc_stat(kStat, {});
    ASSERT_EQ(both.size(), 2u);
    EXPECT_EQ(both[0].core, 0);
    EXPECT_EQ(both[0].total, 500u);
    EXPECT_EQ(both[0].busy, 150u);
    EXPECT_EQ(both[1].total, 520u);
    EXPECT_EQ(both[1].busy, 270u);  // irq, softirq and steal are busy
    std::vector<CoreTimes> one = parse_proc_stat(kStat, {false, true});
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].core, 1);
    // Older kernels write fewer columns (no steal, guest): the first four are enough.
    std::vector<CoreTimes> old = parse_proc_stat("cpu0 10 0 10 80\n", {});
    ASSERT_EQ(old.size(), 1u);
    EXPECT_EQ(old[0].total, 100u);
    EXPECT_EQ(old[0].busy, 20u);
}

TEST(ThisMachine, ProcStatWithoutTheCoresIsEmpty) {
    EXPECT_TRUE(parse_proc_stat(kStat, {false, false, true}).empty());
    EXPECT_TRUE(parse_proc_stat("cpu  1 2 3 4\nintr 1\n", {}).empty());  // only the sum
    EXPECT_TRUE(parse_proc_stat("", {}).empty());
    EXPECT_TRUE(parse_proc_stat("cpu0 x y\n", {}).empty());
}

TEST(ThisMachine, BusyBetweenTwoReadingsCountsOnlyCoresInBoth) {
    std::vector<CoreTimes> before{{0, 100, 1000}, {1, 500, 1000}};
    std::vector<CoreTimes> after{{0, 190, 1100}, {1, 510, 1100}};
    EXPECT_DOUBLE_EQ(*busy_between(before, after), 100.0 / 200.0);
    // Core 2 came online between the readings: its lifetime counters would skew the share.
    after.push_back({2, 5000, 6000});
    EXPECT_DOUBLE_EQ(*busy_between(before, after), 100.0 / 200.0);
    // Core 1 went offline and came back: its counters restarted.
    after[1] = {1, 5, 10};
    EXPECT_DOUBLE_EQ(*busy_between(before, after), 90.0 / 100.0);
    EXPECT_FALSE(busy_between(before, before));  // no time passed
    EXPECT_FALSE(busy_between({}, after));
}

TEST(ThisMachine, CoreLoadReadsThisMachinesCores) {
    CoreLoad load;
    // Busy for a few of /proc/stat's 10 ms ticks.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
    volatile uint64_t spin = 0;
    while (std::chrono::steady_clock::now() < until) {
        spin = spin + 1;
    }
    std::optional<double> busy = load.busy_since_last();
    ASSERT_TRUE(busy) << "/proc/stat is readable here";
    EXPECT_GT(*busy, 0.0);
}

TEST(ThisMachine, SocketsLoopbackAndOwnAddressesAreThisMachine) {
    EXPECT_TRUE(is_this_machine("/var/run/postgresql", "", {}));
    EXPECT_TRUE(is_this_machine("@pg", "", {}));
    EXPECT_TRUE(is_this_machine("localhost", "127.0.0.1", {}));
    EXPECT_TRUE(is_this_machine("127.0.1.1", "", {}));
    EXPECT_TRUE(is_this_machine("localhost", "::1", {}));
    EXPECT_TRUE(is_this_machine("db.internal", "10.0.0.5", {"10.0.0.5", "fe80::1"}));
    EXPECT_FALSE(is_this_machine("db.internal", "10.0.0.6", {"10.0.0.5"}));
    EXPECT_FALSE(is_this_machine("crdb.example.com", "203.0.113.7", local_addresses()));
    EXPECT_FALSE(is_this_machine("", "", {}));
    // IPv4 mapped into IPv6, the unspecified addresses (Linux connects them here), a scope.
    EXPECT_TRUE(is_this_machine("::ffff:127.0.0.1", "", {}));
    EXPECT_TRUE(is_this_machine("db", "::ffff:10.0.0.5", {"10.0.0.5"}));
    EXPECT_TRUE(is_this_machine("0.0.0.0", "", {}));
    EXPECT_TRUE(is_this_machine("::", "", {}));
    EXPECT_TRUE(is_this_machine("fe80::1%eth0", "", {"fe80::1"}));
    // Spelt differently, the same address (PostgreSQL writes ::0.0.0.2 for ::2).
    EXPECT_TRUE(is_this_machine("db", "::0.0.0.2", {"::2"}));
    EXPECT_FALSE(is_this_machine("db.example.com", "", {}));  // a name alone says nothing
}

TEST(ThisMachine, LocalAddressesAreNumericAndThisMachine) {
    std::vector<std::string> mine = local_addresses();
    ASSERT_FALSE(mine.empty());
    EXPECT_TRUE(std::any_of(mine.begin(), mine.end(), [](const std::string& a) {
        return is_this_machine("", a, {});
    })) << "a loopback address";
    for (const std::string& a : mine) {
        EXPECT_TRUE(is_this_machine("some-name", a, mine)) << a << " parses";
    }
}

}  // namespace
}  // namespace rep::util
