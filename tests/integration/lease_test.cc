// One active instance per stream: processes started with the same arguments share the
// stream's lease (staging/lease.h). One applies, the others wait as standbys and take over
// when it dies, is stopped (SIGSTOP) past its lease, or is cut off from the target; the one
// that lost the lease commits nothing more and becomes a standby itself. The ledger proof
// holds throughout: the target is a prefix of the source's history at every sample, and no
// transaction is applied twice.

#include "fault_proxy.h"
#include "harness.h"
#include "ledger_workload.h"
#include "my_ledger.h"
#include <gtest/gtest.h>

#include <memory>
#include <signal.h>
#include <thread>

namespace {

using harness::Databases;
using harness::FaultProxy;
using harness::Replicator;
using namespace std::chrono_literals;

constexpr int kFirstPort = 26710;  // below the ephemeral range, like every test port

class LeaseRun {
public:
    explicit LeaseRun(const std::string& name)
        : name_(name),
          db_(name, harness::kWorkloadDdl),
          work_(db_, 11),
          sampler_(db_, harness::Check::kAtomicAndPrefix) {
        harness::count_ledger_writes(db_);
    }

    Databases& db() { return db_; }
    // Instance `i`'s arguments: the same stream, a short lease, its own metrics port.
    std::vector<std::string> args(int i, const std::string& target_url = "") {
        auto a = db_.args(
            {"--leaseTTL", "2s", "--metricsAddr", "127.0.0.1:" + std::to_string(kFirstPort + i)});
        if (!target_url.empty()) {
            a[4] = target_url;
        }
        return a;
    }
    std::unique_ptr<Replicator> start(int i, const std::string& target_url = "") {
        return std::make_unique<Replicator>(args(i, target_url),
                                            harness::fresh_log(name_ + "_" + std::to_string(i)));
    }
    void start_workload() { work_.start(); }
    ::testing::AssertionResult applies(long long rows) { return harness::applies(db_, rows); }
    void finish() {
        EXPECT_TRUE(sampler_.sampled_more_than(50));
        work_.stop();
        ASSERT_EQ(work_.error(), "");
        EXPECT_TRUE(harness::converges(db_, harness::kTables, 180s));
        sampler_.stop();
        EXPECT_EQ(sampler_.violations(), 0) << sampler_.first_violation();
        EXPECT_TRUE(harness::applied_once(db_));
    }

private:
    std::string name_;
    Databases db_;
    harness::Workload work_;
    harness::LedgerSampler sampler_;
};

// How many times `r` took the lease.
int holdings(const Replicator& r) {
    std::string log = r.log();
    int n = 0;
    for (size_t at = log.find("holding the lease"); at != std::string::npos;
         at = log.find("holding the lease", at + 1)) {
        ++n;
    }
    return n;
}
bool holds(const Replicator& r) {
    return holdings(r) > 0;
}
// Whether `r` noticed it lost the lease and went back to waiting for it.
bool stepped_down(const Replicator& r) {
    return r.log().find("waiting to take the stream again") != std::string::npos;
}
bool standby(const Replicator& r) {
    return r.log().find("standby: stream") != std::string::npos;
}

// Three instances: one applies, two wait. The holder is frozen (SIGSTOP) past its lease: one
// standby takes over, the other keeps waiting; thawed, the old holder finds its lease gone,
// commits nothing more and waits as a standby. Then the new holder is killed with -9, and
// one of the two others takes over at once (a holder of this machine that is gone need not
// be waited out).
TEST(Lease, StandbysTakeOverFromAFrozenAndThenAKilledHolder) {
    LeaseRun run("it_lease");
    auto a = run.start(0);
    ASSERT_TRUE(harness::wait_for([&] { return holds(*a); }, 30s)) << a->log();
    auto b = run.start(1);
    auto c = run.start(2);
    ASSERT_TRUE(harness::wait_for([&] { return standby(*b) && standby(*c); }, 30s))
        << b->log() << c->log();
    auto [code, body] = harness::http_get(kFirstPort + 1, "/_/healthz");
    EXPECT_EQ(code, 503) << body;
    EXPECT_NE(body.find("standby: stream"), std::string::npos) << body;
    run.start_workload();
    ASSERT_TRUE(run.applies(100)) << a->log();
    EXPECT_FALSE(holds(*b) || holds(*c));

    a->signal(SIGSTOP);
    ASSERT_TRUE(harness::wait_for([&] { return holds(*b) || holds(*c); }, 20s))
        << b->log() << c->log();
    Replicator& next = holds(*b) ? *b : *c;
    Replicator& last = holds(*b) ? *c : *b;
    EXPECT_FALSE(holds(last)) << last.log();
    ASSERT_TRUE(run.applies(100)) << next.log();
    a->signal(SIGCONT);
    ASSERT_TRUE(harness::wait_for([&] { return stepped_down(*a); }, 20s)) << a->log();
    EXPECT_TRUE(a->running()) << a->log();
    EXPECT_EQ(holdings(*a), 1) << a->log();
    ASSERT_TRUE(run.applies(100)) << next.log();

    next.signal(SIGKILL);
    next.wait(10s);
    ASSERT_TRUE(harness::wait_for([&] { return holds(last) || holdings(*a) == 2; }, 20s))
        << last.log() << a->log();
    EXPECT_FALSE(holds(last) && holdings(*a) == 2);
    Replicator& now = holds(last) ? last : *a;
    ASSERT_TRUE(run.applies(100)) << now.log();
    run.finish();
    for (Replicator* r : {a.get(), &last}) {
        r->signal(SIGTERM);
        EXPECT_EQ(r->wait(30s), 0) << r->log();
    }
}

// The holder is cut off from the target (and staging) by a network partition: it cannot
// renew its lease, stops writing after half the lease, and a standby takes over once it has
// expired. When the network heals, the old holder waits as a standby.
TEST(Lease, StandbyTakesOverFromAPartitionedHolder) {
    LeaseRun run("it_lease_part");
    FaultProxy proxy(harness::target_port());
    std::string via =
        "postgresql://postgres:hunter2-secret@127.0.0.1:" + std::to_string(proxy.port()) + "/" +
        run.db().name;
    auto a = run.start(0, via);
    ASSERT_TRUE(harness::wait_for([&] { return holds(*a); }, 30s)) << a->log();
    auto b = run.start(1);
    ASSERT_TRUE(harness::wait_for([&] { return standby(*b); }, 30s)) << b->log();
    run.start_workload();
    ASSERT_TRUE(run.applies(100)) << a->log();

    proxy.partition();
    ASSERT_TRUE(harness::wait_for([&] { return holds(*b); }, 30s)) << b->log();
    ASSERT_TRUE(run.applies(100)) << b->log();
    EXPECT_TRUE(harness::wait_for(
        [&] { return a->log().find("could not renew the lease") != std::string::npos; }, 30s))
        << a->log();
    EXPECT_TRUE(a->running()) << a->log();
    proxy.heal();
    EXPECT_TRUE(harness::wait_for([&] { return stepped_down(*a); }, 60s)) << a->log();
    EXPECT_EQ(holdings(*a), 1) << a->log();
    run.finish();
    for (Replicator* r : {a.get(), b.get()}) {
        r->signal(SIGTERM);
        EXPECT_EQ(r->wait(30s), 0) << r->log();
    }
}

// A clean stop gives the lease up: a standby takes over at once, not a lease later.
TEST(Lease, CleanStopHandsOverAtOnce) {
    LeaseRun run("it_lease_stop");
    auto a = run.start(0);
    ASSERT_TRUE(harness::wait_for([&] { return holds(*a); }, 30s)) << a->log();
    auto b = run.start(1);
    ASSERT_TRUE(harness::wait_for([&] { return standby(*b); }, 30s)) << b->log();
    run.start_workload();
    ASSERT_TRUE(run.applies(50)) << a->log();
    a->signal(SIGTERM);
    EXPECT_EQ(a->wait(30s), 0) << a->log();
    EXPECT_NE(a->log().find("gave up the lease"), std::string::npos) << a->log();
    ASSERT_TRUE(harness::wait_for([&] { return holds(*b); }, 5s)) << b->log();
    ASSERT_TRUE(run.applies(50)) << b->log();
    run.finish();
    b->signal(SIGTERM);
    EXPECT_EQ(b->wait(30s), 0) << b->log();
}

// mylogical: the same lease, keyed by its GTID checkpoint. A frozen holder's binary log
// connection is ended by the server when the new holder registers with the same server id.
TEST(Lease, MylogicalStandbyTakesOverFromAFrozenHolder) {
    harness::MyLedgerRun run("my_lease");
    auto args = [&](int i) {
        auto a = run.db().args(
            {"--leaseTTL", "2s", "--metricsAddr", "127.0.0.1:" + std::to_string(kFirstPort + i)});
        return a;
    };
    Replicator a(args(0), harness::fresh_log("my_lease_0"));
    ASSERT_TRUE(harness::wait_for([&] { return holds(a); }, 30s)) << a.log();
    Replicator b(args(1), harness::fresh_log("my_lease_1"));
    ASSERT_TRUE(harness::wait_for([&] { return standby(b); }, 30s)) << b.log();
    run.start();
    ASSERT_TRUE(run.applies(100)) << a.log();
    a.signal(SIGSTOP);
    ASSERT_TRUE(harness::wait_for([&] { return holds(b); }, 20s)) << b.log();
    ASSERT_TRUE(run.applies(100)) << b.log();
    a.signal(SIGCONT);
    EXPECT_TRUE(harness::wait_for([&] { return stepped_down(a); }, 20s)) << a.log();
    EXPECT_EQ(holdings(a), 1) << a.log();
    run.finish(b);
    a.signal(SIGTERM);
    EXPECT_EQ(a.wait(30s), 0) << a.log();
}

}  // namespace
