// Network and disk faults while a workload runs, made by the harness itself: a FaultProxy
// between the replicator and one server (a partition, half-open connections), and a small
// tmpfs for the spool of streamed transactions. The replicator must ride through each with
// its default retry settings, and every test ends as the interruption tests do: source and
// target compared table by table, the ledger sampled as an unbroken prefix throughout
// (--parallelism 1), and no source transaction applied twice.

#include "fault_proxy.h"
#include "harness.h"
#include "ledger_workload.h"
#include "my_ledger.h"
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sys/mount.h>

namespace {

using harness::Databases;
using harness::FaultProxy;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

// The workload and its checks around one replicator run.
class FaultRun {
public:
    explicit FaultRun(const std::string& name)
        : db_(name, harness::kWorkloadDdl),
          work_(db_, 3),
          sampler_(db_, harness::Check::kAtomicAndPrefix) {
        harness::count_ledger_writes(db_);
    }

    Databases& db() { return db_; }
    // The usual arguments, in source order on one connection, so the ledger must be a prefix.
    std::vector<std::string> args(const std::vector<std::string>& extra = {}) {
        std::vector<std::string> a = db_.args({"--parallelism", "1"});
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }
    std::string url_via(const FaultProxy& proxy, bool with_password) const {
        return std::string("postgresql://postgres") + (with_password ? ":hunter2-secret" : "") +
               "@127.0.0.1:" + std::to_string(proxy.port()) + "/" + db_.name;
    }

    void start_workload() { work_.start(); }
    // Waits until the target has applied `rows` more ledger rows than it has now.
    ::testing::AssertionResult applies(long long rows) { return harness::applies(db_, rows); }

    // Stops the workload, then checks everything the replicator promised.
    void finish(Replicator& r) {
        EXPECT_TRUE(sampler_.sampled_more_than(50));  // the target was down for most of it
        work_.stop();
        ASSERT_EQ(work_.error(), "");
        EXPECT_TRUE(harness::converges(db_, harness::kTables, 180s)) << r.log();
        sampler_.stop();
        EXPECT_GT(work_.transactions(), 100);
        EXPECT_EQ(sampler_.violations(), 0) << sampler_.first_violation();
        EXPECT_TRUE(harness::applied_once(db_));
        EXPECT_TRUE(r.running()) << r.log();
        r.signal(SIGTERM);
        EXPECT_EQ(r.wait(30s), 0) << r.log();
    }

private:
    Databases db_;
    harness::Workload work_;
    harness::LedgerSampler sampler_;
};

// A partition between the replicator and the target that outlasts every timeout: the sessions
// are given up (no answer within --applyTimeout + 30 s) and connecting is retried until the
// network heals. The server sessions left behind are still there, one possibly inside a
// transaction and holding the memo row's lock: the target's idle-in-transaction timeout
// (--applyTimeout) ends it, or every later commit would wait behind it.
TEST(Faults, TargetPartitionOutlastingTheTimeouts) {
    FaultRun run("it_fault_tpart");
    FaultProxy proxy(harness::target_port());
    auto args = run.args({"--applyTimeout", "2s"});
    args[4] = run.url_via(proxy, true);
    Replicator r(args, fresh_log("it_fault_tpart"));
    run.start_workload();
    ASSERT_TRUE(run.applies(50)) << r.log();
    proxy.partition();
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("no answer from target") != std::string::npos; }, 60s))
        << r.log();
    std::this_thread::sleep_for(5s);  // reconnecting meanwhile fails
    proxy.heal();
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// The target stopped mid-stream, first cleanly (fast: sessions are told), then as in a crash
// (immediate: transactions in flight are lost), each time for longer than the default
// --maxRetries used to allow (about 9 s).
TEST(Faults, TargetStoppedFastThenImmediatelyMidStream) {
    FaultRun run("it_fault_tstop");
    Replicator r(run.args(), fresh_log("it_fault_tstop"));
    run.start_workload();
    for (const char* mode : {"fast", "immediate"}) {
        SCOPED_TRACE(mode);
        ASSERT_TRUE(run.applies(50)) << r.log();
        ASSERT_TRUE(harness::pg_servers("stop-target", 0, mode));
        std::this_thread::sleep_for(12s);
        EXPECT_TRUE(r.running()) << r.log();
        ASSERT_TRUE(harness::pg_servers("start-target", harness::target_port()));
        run.db().target = std::make_unique<harness::Sql>(harness::target_port(), run.db().name);
    }
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// The source stopped mid-stream, fast then immediate: the slot keeps what was written and the
// reader reconnects; the workload goes on once the source is back.
TEST(Faults, SourceStoppedFastThenImmediatelyMidStream) {
    FaultRun run("it_fault_sstop");
    Replicator r(run.args(), fresh_log("it_fault_sstop"));
    run.start_workload();
    for (const char* mode : {"fast", "immediate"}) {
        SCOPED_TRACE(mode);
        ASSERT_TRUE(run.applies(50)) << r.log();
        run.db().source.reset();
        ASSERT_TRUE(harness::pg_servers("stop-source", 0, mode));
        std::this_thread::sleep_for(12s);
        EXPECT_TRUE(r.running()) << r.log();
        ASSERT_TRUE(harness::pg_servers("start-source", harness::source_port()));
        run.db().source = std::make_unique<harness::Sql>(harness::source_port(), run.db().name);
    }
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// A short partition between the replicator and the source: the replication stream goes
// quiet, the replicator asks it to answer, and the answer arrives once the network heals,
// before the 30 s after which it would reconnect. Nothing is lost or repeated.
TEST(Faults, ShortSourcePartitionIsWaitedOut) {
    FaultRun run("it_fault_spart");
    FaultProxy proxy(harness::source_port());
    auto args = run.args();
    args[2] = run.url_via(proxy, false);
    Replicator r(args, fresh_log("it_fault_spart"));
    run.start_workload();
    ASSERT_TRUE(run.applies(50)) << r.log();
    proxy.partition();
    std::this_thread::sleep_for(15s);
    proxy.heal();
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// The source's side of the connections goes away and the replicator hears nothing of it: the
// silent stream is given up after 30 s and opened again.
TEST(Faults, HalfOpenSourceConnectionIsReopened) {
    FaultRun run("it_fault_shalf");
    FaultProxy proxy(harness::source_port());
    auto args = run.args();
    args[2] = run.url_via(proxy, false);
    Replicator r(args, fresh_log("it_fault_shalf"));
    run.start_workload();
    ASSERT_TRUE(run.applies(50)) << r.log();
    proxy.half_open();
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("the source sent nothing for") != std::string::npos; }, 60s))
        << r.log();
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// The target's side goes away silently: a statement waits for its answer until
// --applyTimeout + 30 s, and the session is opened again.
TEST(Faults, HalfOpenTargetConnectionIsReopened) {
    FaultRun run("it_fault_thalf");
    FaultProxy proxy(harness::target_port());
    auto args = run.args({"--applyTimeout", "2s"});
    args[4] = run.url_via(proxy, true);
    Replicator r(args, fresh_log("it_fault_thalf"));
    run.start_workload();
    ASSERT_TRUE(run.applies(50)) << r.log();
    proxy.half_open();
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("no answer from target") != std::string::npos; }, 60s))
        << r.log();
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// A tmpfs that can be made small and then large, for the spool directory.
class SmallDisk {
public:
    explicit SmallDisk(std::string dir) : dir_(std::move(dir)) {
        std::filesystem::create_directories(dir_);
        mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=2m") == 0;
    }
    ~SmallDisk() {
        if (mounted_) {
            ::umount2(dir_.c_str(), MNT_DETACH);
        }
    }
    bool mounted() const { return mounted_; }
    void grow() { ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, "size=256m"); }
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    bool mounted_ = false;
};

// The disk under --dataDir fills while a large streamed transaction is spooled: the error says
// so and what to do, nothing of the transaction is applied, and once there is room again the
// server streams it anew and replication goes on.
TEST(Faults, FullSpoolDiskIsRiddenThroughOnceThereIsRoom) {
    FaultRun run("it_fault_disk");
    SmallDisk disk(harness::servers_base() + "/small-disk");
    if (!disk.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs CAP_SYS_ADMIN, which this machine does not give";
    }
    auto args = run.args();
    for (size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "--dataDir") {
            args[i + 1] = disk.dir();
        }
    }
    args[2] += "?options=-c%20logical_decoding_work_mem%3D64kB";  // stream early
    Replicator r(args, fresh_log("it_fault_disk"));
    run.start_workload();
    ASSERT_TRUE(run.applies(50)) << r.log();
    // About 20 MB of row data in one transaction; the spool has 2 MB.
    run.db().source->exec(
        "INSERT INTO events SELECT 1000000000 + g, -1, repeat('x', 300) "
        "FROM generate_series(1, 60000) g");
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("No space left on device") != std::string::npos; }, 60s))
        << r.log();
    EXPECT_NE(r.log().find("--disableStreaming"), std::string::npos);
    EXPECT_EQ(run.db().target->count("events WHERE id > 1000000000"), 0);
    EXPECT_TRUE(r.running()) << r.log();
    disk.grow();
    EXPECT_TRUE(harness::wait_for(
        [&] { return run.db().target->count("events WHERE id > 1000000000") == 60000; }, 120s))
        << r.log();
    run.finish(r);
}

// The binlog stream through the proxy, with a 3 s readTimeout so the tests need not wait 30 s.
std::vector<std::string> my_args_via(harness::MyLedgerRun& run, const FaultProxy& proxy) {
    auto args = run.db().args();
    args[2] = "mysql://repl:my-secret-pw@127.0.0.1:" + std::to_string(proxy.port()) + "/" +
              run.db().name + "?readTimeout=3s";
    return args;
}

// A partition between the replicator and MariaDB: the stream's heartbeats stop, the read is
// given up after readTimeout, and connecting is retried (each attempt bounded by the connect
// timeout) until the network heals. The server's old dump thread, which never heard of it,
// is replaced when the replicator registers again with the same server id.
TEST(Faults, MariadbSourcePartitionIsRiddenThrough) {
    harness::MyLedgerRun run("my_fault_part");
    FaultProxy proxy(harness::mariadb_port());
    Replicator r(my_args_via(run, proxy), fresh_log("my_fault_part"));
    run.start();
    ASSERT_TRUE(run.applies(50)) << r.log();
    proxy.partition();
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("no answer within 3s") != std::string::npos; }, 30s))
        << r.log();
    std::this_thread::sleep_for(5s);
    proxy.heal();
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// MariaDB's side of the connection goes away unnoticed: the silent stream is given up after
// readTimeout and opened again.
TEST(Faults, HalfOpenMariadbConnectionIsReopened) {
    harness::MyLedgerRun run("my_fault_half");
    FaultProxy proxy(harness::mariadb_port());
    Replicator r(my_args_via(run, proxy), fresh_log("my_fault_half"));
    run.start();
    ASSERT_TRUE(run.applies(50)) << r.log();
    int before = proxy.accepted();
    proxy.half_open();
    EXPECT_TRUE(harness::wait_for([&] { return proxy.accepted() > before; }, 30s)) << r.log();
    EXPECT_NE(r.log().find("no answer within 3s"), std::string::npos) << r.log();
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// MariaDB stopped mid-stream, cleanly then killed, each time for 12 s.
TEST(Faults, MariadbStoppedThenKilledMidStream) {
    harness::MyLedgerRun run("my_fault_stop2");
    Replicator r(run.db().args(), fresh_log("my_fault_stop2"));
    run.start();
    for (const char* mode : {"fast", "immediate"}) {
        SCOPED_TRACE(mode);
        ASSERT_TRUE(run.applies(50)) << r.log();
        run.db().source.reset();
        ASSERT_TRUE(harness::pg_servers("mariadb-stop", 0, mode));
        std::this_thread::sleep_for(12s);
        EXPECT_TRUE(r.running()) << r.log();
        ASSERT_TRUE(harness::pg_servers("mariadb-resume", harness::mariadb_port()));
        run.db().source = std::make_unique<harness::MySql>(run.db().name);
    }
    EXPECT_TRUE(run.applies(50)) << r.log();
    run.finish(r);
}

// A stop request while the stream read waits behind a partition is honoured within about a
// second, with exit status 0: nothing failed.
TEST(Faults, StopDuringAMariadbPartitionIsPrompt) {
    harness::MyLedgerRun run("my_fault_stop");
    FaultProxy proxy(harness::mariadb_port());
    auto args = run.db().args();
    args[2] = "mysql://repl:my-secret-pw@127.0.0.1:" + std::to_string(proxy.port()) + "/" +
              run.db().name;  // the default readTimeout: 30 s
    Replicator r(args, fresh_log("my_fault_stop"));
    ASSERT_TRUE(harness::wait_for(
        [&] { return r.log().find("replicating from") != std::string::npos; }, 30s))
        << r.log();
    proxy.partition();
    std::this_thread::sleep_for(2s);
    r.signal(SIGTERM);
    auto stopped = std::chrono::steady_clock::now();
    EXPECT_EQ(r.wait(10s), 0) << r.log();
    EXPECT_LT(std::chrono::steady_clock::now() - stopped, 2500ms) << r.log();
}

}  // namespace
