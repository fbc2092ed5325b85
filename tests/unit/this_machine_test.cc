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

TEST(ThisMachine, ProcStatSumsTheListedCoresWithIowaitAsIdle) {
    auto both = parse_proc_stat(kStat, {});
    ASSERT_TRUE(both);
    EXPECT_EQ(both->total, 500u + 520u);
    EXPECT_EQ(both->busy, 150u + 270u);
    auto one = parse_proc_stat(kStat, {1});
    ASSERT_TRUE(one);
    EXPECT_EQ(one->total, 520u);
    EXPECT_EQ(one->busy, 270u);
    // Older kernels write fewer columns (no steal, guest): the first four are enough.
    auto old = parse_proc_stat("cpu0 10 0 10 80\n", {});
    ASSERT_TRUE(old);
    EXPECT_EQ(old->total, 100u);
    EXPECT_EQ(old->busy, 20u);
}

TEST(ThisMachine, ProcStatWithoutTheCoresIsUnknown) {
    EXPECT_FALSE(parse_proc_stat(kStat, {7}));
    EXPECT_FALSE(parse_proc_stat("cpu  1 2 3 4\nintr 1\n", {}));  // only the sum
    EXPECT_FALSE(parse_proc_stat("", {}));
    EXPECT_FALSE(parse_proc_stat("cpu0 x y\n", {}));
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
    EXPECT_LE(*busy, 1.0);
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
}

TEST(ThisMachine, LocalAddressesIncludeLoopback) {
    std::vector<std::string> mine = local_addresses();
    EXPECT_NE(std::find(mine.begin(), mine.end(), "127.0.0.1"), mine.end());
}

}  // namespace
}  // namespace rep::util
