// Outages and stops: a production replicator rides through a server restart or an outage of
// minutes with default flags (health says 503 meanwhile), fails at once on what no retry can
// fix, never hangs on a peer that does not answer, and stops cleanly in every state.

#include "harness.h"
#include <gtest/gtest.h>

#include <cstdlib>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using harness::converges;
using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using harness::Sql;
using namespace std::chrono_literals;

// Nothing listens on this port on the test machines.
constexpr const char* kDeadTarget = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2";

void servers(const std::string& action, int port = 0) {
    ASSERT_TRUE(harness::pg_servers(action, port));
}

// A TCP port that accepts connections (the kernel completes the handshake) but never says a
// word: a hung server, or a proxy whose far side is gone.
class SilentEndpoint {
public:
    SilentEndpoint() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        listen(fd_, 16);
        socklen_t len = sizeof(addr);
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~SilentEndpoint() { close(fd_); }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

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

// A target that accepts TCP but never answers: the connection attempt is bounded, and a stop
// is honoured within about a second.
TEST(Outages, SilentTargetNeitherHangsNorHoldsUpAStop) {
    SilentEndpoint silent;
    Databases db("it_silent", "CREATE TABLE t(id int PRIMARY KEY)");
    auto args = db.args();
    args[4] = "postgresql://postgres@127.0.0.1:" + std::to_string(silent.port()) + "/it_silent";
    Replicator r(args, fresh_log("it_silent"));
    // The default connect timeout is 10 s: the first attempt gives up and is retried.
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("timed out after 10 s connecting") != std::string::npos; }, 20s))
        << r.log();
    r.signal(SIGTERM);
    auto stopped = std::chrono::steady_clock::now();
    EXPECT_EQ(r.wait(5s), 0) << r.log();
    EXPECT_LT(std::chrono::steady_clock::now() - stopped, 2500ms);
}

// What no retry can fix fails at once, naming it, instead of being retried as a lost
// connection.
TEST(Outages, ConfigurationErrorsFailAtOnce) {
    Databases db("it_badconf", "CREATE TABLE t(id int PRIMARY KEY)");
    const std::string base =
        "postgresql://postgres@127.0.0.1:" + std::to_string(harness::target_port());
    for (const std::string& target :
         {base + "/no_such_database", base + "/it_badconf?no_such_option=1",
          base + "/it_badconf?sslmode=verify-full&sslrootcert=/nonexistent/root.crt"}) {
        auto args = db.args();
        args[4] = target;
        auto started = std::chrono::steady_clock::now();
        auto [status, out] = harness::run_replicator(args, 60s);
        // An unknown parameter is refused before anything connects (a bad command line).
        bool unparseable = target.find("no_such_option") != std::string::npos;
        EXPECT_EQ(status, unparseable ? 2 : 1) << target << "\n" << out;
        EXPECT_LT(std::chrono::steady_clock::now() - started, 10s) << target;
        EXPECT_EQ(out.find("retrying"), std::string::npos) << target << "\n" << out;
    }
}

// The target is down for longer than the default --maxRetries used to allow (about 9 s):
// the replicator waits, says 503 meanwhile, and resumes by itself.
TEST(Outages, TargetDownForLongIsRiddenThroughWithDefaultFlags) {
    const int port = 26512;
    Databases db("it_target_down", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    Replicator r(db.args({"--metricsAddr", "127.0.0.1:" + std::to_string(port)}),
                 fresh_log("it_target_down"));
    db.source->exec("INSERT INTO t SELECT g, 'before' FROM generate_series(1, 100) g");
    ASSERT_TRUE(converges(db, {"t"}));
    servers("stop-target");
    db.source->exec("INSERT INTO t SELECT g, 'during' FROM generate_series(101, 200) g");
    EXPECT_TRUE(
        harness::wait_for([&] { return harness::http_get(port, "/_/healthz").first == 503; }, 10s));
    std::this_thread::sleep_for(15s);
    EXPECT_TRUE(r.running()) << r.log();
    servers("start-target", harness::target_port());
    db.target = std::make_unique<Sql>(harness::target_port(), db.name);
    EXPECT_TRUE(converges(db, {"t"})) << r.log();
    EXPECT_TRUE(
        harness::wait_for([&] { return harness::http_get(port, "/_/healthz").first == 200; }, 30s));
    EXPECT_TRUE(r.running()) << r.log();
}

// The same for the source: the slot keeps what was written, the reader reconnects.
TEST(Outages, SourceRestartIsRiddenThrough) {
    Databases db("it_source_down", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    Replicator r(db.args(), fresh_log("it_source_down"));
    db.source->exec("INSERT INTO t SELECT g, 'before' FROM generate_series(1, 100) g");
    ASSERT_TRUE(converges(db, {"t"}));
    db.source.reset();
    servers("stop-source");
    std::this_thread::sleep_for(12s);
    EXPECT_TRUE(r.running()) << r.log();
    servers("start-source", harness::source_port());
    db.source = std::make_unique<Sql>(harness::source_port(), db.name);
    db.source->exec("INSERT INTO t SELECT g, 'after' FROM generate_series(101, 200) g");
    EXPECT_TRUE(converges(db, {"t"})) << r.log();
    EXPECT_TRUE(r.running()) << r.log();
}

}  // namespace
