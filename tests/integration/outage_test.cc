// Outages and stops: what the replicator does while a server is away, and that a stop
// request is a clean stop in every state.

#include "harness.h"
#include <gtest/gtest.h>

#include <signal.h>

namespace {

using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

// Nothing listens on this port on the test machines.
constexpr const char* kDeadTarget = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2";

TEST(Outages, StopWhileWaitingForTheTargetIsACleanStop) {
    Databases db("it_stop_start", "CREATE TABLE t(id int PRIMARY KEY)");
    auto args = db.args();
    args[4] = kDeadTarget;
    Replicator r(args, fresh_log("it_stop_start"));
    ASSERT_TRUE(harness::wait_for(
        [&] { return r.log().find("connecting to the target failed") != std::string::npos; }, 30s))
        << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(5s), 0) << r.log();
    EXPECT_NE(r.log().find("stopped on request before replication could start"), std::string::npos)
        << r.log();
}

}  // namespace
