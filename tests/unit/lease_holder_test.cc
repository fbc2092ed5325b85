// Lease holder names: a process can tell that a holder of its own machine is gone (killed),
// and never mistakes a live process, another machine's holder or a name it cannot read for
// a dead one.

#include "app/lease_keeper.h"

#include <gtest/gtest.h>

#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace rep::app {
namespace {

std::string host_of(const std::string& name) {
    std::string rest = name.substr(0, name.rfind(':'));
    return rest.substr(0, rest.rfind(':'));
}

TEST(LeaseHolder, ThisProcessIsAlive) {
    std::string me = lease_holder_name();
    EXPECT_FALSE(holder_is_gone(me)) << me;
    EXPECT_EQ(me, lease_holder_name());  // stable for the life of the process
}

TEST(LeaseHolder, AProcessThatExitedIsGone) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        _exit(0);
    }
    ASSERT_EQ(waitpid(child, nullptr, 0), child);
    std::string me = lease_holder_name();
    std::string start = me.substr(me.rfind(':') + 1);
    std::string dead = host_of(me) + ":" + std::to_string(child) + ":" + start;
    EXPECT_TRUE(holder_is_gone(dead)) << dead;
}

TEST(LeaseHolder, ThisPidWithAnotherStartTimeIsAnotherProcess) {
    std::string me = lease_holder_name();
    std::string reused = me.substr(0, me.rfind(':') + 1) + "1";
    EXPECT_TRUE(holder_is_gone(reused)) << reused;
}

TEST(LeaseHolder, OtherMachinesAndUnreadableNamesAreNeverGone) {
    std::string me = lease_holder_name();
    std::string start = me.substr(me.rfind(':') + 1);
    EXPECT_FALSE(holder_is_gone("another-host.example:999999:" + start));
    EXPECT_FALSE(holder_is_gone(""));
    EXPECT_FALSE(holder_is_gone("garbage"));
    EXPECT_FALSE(holder_is_gone(host_of(me) + ":notapid:1"));
    EXPECT_FALSE(holder_is_gone(host_of(me) + ":0:1"));
}

}  // namespace
}  // namespace rep::app
