// Interruption tests: graceful stops, kill -9 at random moments, a target restart, and a
// transaction too large to hold in memory. A ledger table, where every source transaction
// appends the next sequence number and as many audit rows as its note says, proves atomicity
// at every moment (each visible ledger row has all its audit rows, and no audit row is
// without its ledger row) and order: the target holds exactly 1..N with no gap, whatever
// --parallelism is. With --unorderedCommits independent transactions commit out of order, so
// there only atomicity holds while it runs; order per row shows in the final comparison.

#include "cutting_proxy.h"
#include "harness.h"
#include "ledger_workload.h"
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <optional>
#include <random>
#include <signal.h>
#include <thread>

namespace {

using harness::applied_once;
using harness::Check;
using harness::count_ledger_writes;
using harness::Databases;
using harness::kTables;
using harness::kWorkloadDdl;
using harness::LedgerSampler;
using harness::Replicator;
using harness::Sql;
using harness::Workload;
using namespace std::chrono_literals;

::testing::AssertionResult converges(Databases& db, std::chrono::milliseconds timeout = 120s) {
    return harness::converges(db, kTables, timeout);
}

// Source order at every moment, unless --unorderedCommits trades it away: then atomicity.
Check check_for(const std::vector<std::string>& args) {
    bool unordered = std::find(args.begin(), args.end(), "--unorderedCommits") != args.end();
    return unordered ? Check::kAtomic : Check::kAtomicAndPrefix;
}

// `cut_target`: besides the kills, the replicator's target connections are cut at random
// moments throughout.
void run_kill_test(const std::string& name, const std::vector<std::string>& extra, int kills,
                   bool cut_target = false) {
    Databases db(name, kWorkloadDdl);
    std::string log = harness::log_path(name);
    ::unlink(log.c_str());
    count_ledger_writes(db);
    Workload work(db, 42);
    LedgerSampler sampler(db, check_for(extra));
    work.start();
    std::mt19937 rng(7);
    kills = harness::kill_count(kills);
    std::optional<harness::TargetCutter> cutter;
    if (cut_target) {
        cutter.emplace(name);
    }
    for (int i = 0; i < kills; ++i) {
        Replicator r(db.args(extra), log);
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 900));
        ASSERT_TRUE(r.running()) << "replicator exited early:\n" << r.log();
        r.signal(SIGKILL);
        r.wait(10s);
    }
    if (cutter) {
        EXPECT_GE(cutter->cuts(), kills / 2);
        cutter.reset();
    }
    EXPECT_TRUE(sampler.sampled_more_than(50));
    work.stop();
    ASSERT_EQ(work.error(), "");
    Replicator r(db.args(extra), log);
    EXPECT_TRUE(converges(db));
    sampler.stop();
    EXPECT_GT(work.transactions(), 100);
    EXPECT_EQ(sampler.violations(), 0) << sampler.first_violation();
    EXPECT_TRUE(applied_once(db));
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0);
}

TEST(Resume, GracefulStopAndRestart) {
    Databases db("it_graceful", kWorkloadDdl);
    std::string log = harness::log_path("it_graceful");
    ::unlink(log.c_str());
    Workload work(db, 1);
    work.start();
    for (int i = 0; i < 3; ++i) {
        Replicator r(db.args(), log);
        std::this_thread::sleep_for(1500ms);
        r.signal(i % 2 == 0 ? SIGINT : SIGTERM);
        EXPECT_EQ(r.wait(30s), 0) << r.log();
    }
    work.stop();
    Replicator r(db.args(), log);
    EXPECT_TRUE(converges(db));
    EXPECT_NE(r.log().find("resuming from LSN"), std::string::npos);
}

TEST(Resume, TwentyKillNineDuringWorkload) {
    run_kill_test("it_kill", {"--parallelism", "1"}, 20);
}

// Default flags: up to 16 connections, commits in source order, the plain checkpoint row;
// the target connections are also cut at random moments between the kills.
TEST(Resume, TwentyKillNineWithDefaultFlags) {
    run_kill_test("it_kill_default", {}, 20, /*cut_target=*/true);
}

// Unordered commits: after each kill the restart must skip exactly the groups committed
// beyond the contiguous checkpoint (a group applied twice would bring back deleted events).
TEST(Resume, TwentyKillNineWithUnorderedCommits) {
    run_kill_test("it_kill_par", {"--parallelism", "8", "--unorderedCommits"}, 20);
}

TEST(Resume, KillNineWithGroupedTransactionsAndSmallQueue) {
    run_kill_test("it_kill_grouped", {"--flushSize", "50", "--targetApplyQueueSize", "100"}, 8);
}

// Heavy contention on few keys, a secondary unique index, and parent/child chains under a
// foreign key: folded tables and strict-order tables in the same target transactions.
void run_contention_test(const std::string& name, const std::vector<std::string>& extra) {
    const char* ddl =
        "CREATE TABLE hot(k int PRIMARY KEY, v bigint, note text);"
        "CREATE TABLE uniq(id int PRIMARY KEY, email text UNIQUE);"
        "CREATE TABLE parent(id int PRIMARY KEY, name text);"
        "CREATE TABLE child(id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent(id), "
        "  n int);";
    Databases db(name, ddl);
    db.source->exec("INSERT INTO uniq SELECT g, 'e' || g FROM generate_series(1, 20) g");
    std::vector<std::string> args = {"--flushSize", "200"};
    args.insert(args.end(), extra.begin(), extra.end());
    Replicator r(db.args(args), harness::log_path(name));
    std::mt19937 rng(99);
    Sql& src = *db.source;
    for (int t = 0; t < 400; ++t) {
        std::string sql = "BEGIN;";
        for (int i = 0; i < 1 + static_cast<int>(rng() % 10); ++i) {
            int k = static_cast<int>(rng() % 5);
            switch (rng() % 7) {
                case 0:
                case 1:
                    sql += "INSERT INTO hot VALUES (" + std::to_string(k) +
                           ", 1, 'i') ON CONFLICT (k) "
                           "DO UPDATE SET v = hot.v + 1, note = 'u" +
                           std::to_string(t) + "';";
                    break;
                case 2:
                    sql += "DELETE FROM hot WHERE k = " + std::to_string(k) + ";";
                    break;
                case 3:
                    // Move the oldest row's email to a new row: applying the insert before the
                    // delete would violate the unique index.
                    sql +=
                        "WITH d AS (DELETE FROM uniq WHERE id = (SELECT min(id) FROM uniq) "
                        "RETURNING email) INSERT INTO uniq SELECT " +
                        std::to_string(1000 + t * 20 + i) + ", email FROM d;";
                    break;
                case 4:
                    sql += "INSERT INTO parent VALUES (" + std::to_string(t * 10 + i) +
                           ", 'p') ON CONFLICT DO NOTHING;"
                           "INSERT INTO child VALUES (" +
                           std::to_string(t * 10 + i) + ", " + std::to_string(t * 10 + i) +
                           ", 0) ON CONFLICT DO NOTHING;";
                    break;
                case 5:
                    sql += "UPDATE child SET n = n + 1 WHERE parent_id % 7 = " + std::to_string(k) +
                           ";";
                    break;
                case 6:
                    sql += "DELETE FROM child WHERE parent_id % 11 = " + std::to_string(k) +
                           ";"
                           "DELETE FROM parent p WHERE p.id % 11 = " +
                           std::to_string(k) +
                           " AND NOT EXISTS (SELECT 1 FROM child c WHERE c.parent_id = p.id);";
                    break;
            }
        }
        src.exec(sql + "COMMIT;");
    }
    std::string diff;
    EXPECT_TRUE(harness::wait_for(
        [&] {
            return db.tables_match({"hot", "uniq", "parent", "child"}, &diff);
        },
        120s))
        << diff << r.log();
    EXPECT_TRUE(r.running()) << r.log();
    // The catalog check kept the order-sensitive tables in strict order from the start; the
    // fallback that re-applies a failed batch in source order was not needed.
    EXPECT_EQ(r.log().find("strict source order"), std::string::npos) << r.log();
}

TEST(Resume, ContentionUniqueIndexesAndForeignKeys) {
    run_contention_test("it_contention", {});
}

// The same with one connection, and with 4 and 16 that all take independent groups.
TEST(Resume, ContentionWithOneConnection) {
    run_contention_test("it_contention_1", {"--parallelism", "1"});
}

TEST(Resume, ContentionWithFourFixedConnections) {
    run_contention_test("it_contention_4", {"--parallelism", "4", "--fixedParallelism"});
}

TEST(Resume, ContentionWithSixteenFixedConnections) {
    run_contention_test("it_contention_16", {"--fixedParallelism"});
}

// Table groups joined by foreign keys (parent, child) and the unique-index table apply in
// parallel with each other; within each group the source order holds.
TEST(Resume, ContentionWithParallelTableGroups) {
    run_contention_test("it_contention_groups", {"--enableParallelApplies", "true"});
}

TEST(Resume, KillNineWithStrictOrder) {
    run_kill_test("it_kill_strict", {"--collapseMutations", "false", "--parallelism", "1"}, 5);
}

// The target backends are killed under the replicator many times: each time the open target
// transactions are lost, and nothing of them may count as applied (no checkpoint written on a
// fresh connection outside the transaction, no COMMIT of nothing).
void run_target_kill_test(const std::string& name, const std::string& parallelism) {
    Databases db(name, kWorkloadDdl);
    std::string log = harness::log_path(name);
    ::unlink(log.c_str());
    Workload work(db, 17);
    std::vector<std::string> args = {"--maxRetries", "1000",          "--retryMaxBackoff",
                                     "200ms",        "--parallelism", parallelism};
    count_ledger_writes(db);
    LedgerSampler sampler(db, check_for(args));
    work.start();
    Replicator r(db.args(args), log);
    std::mt19937 rng(3);
    Sql killer(harness::target_port(), "postgres");
    for (int i = 0; i < 30; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
        killer.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                    name + "' AND application_name = 'replicator'");
    }
    work.stop();
    ASSERT_EQ(work.error(), "");
    EXPECT_TRUE(converges(db));
    sampler.stop();
    EXPECT_EQ(sampler.violations(), 0) << sampler.first_violation();
    EXPECT_TRUE(applied_once(db));
    EXPECT_TRUE(r.running()) << r.log();
}

// The target connection is lost during start-up, in the target preflight's catalog query:
// the process must reconnect and go on, not exit (it did: 57P01 there was fatal).
TEST(Resume, TargetCutDuringStartupIsRetried) {
    Databases db("it_startup_cut", "CREATE TABLE ledger(seq bigint PRIMARY KEY, note text);");
    harness::CuttingProxy proxy(harness::target_port());
    proxy.arm("typtype IN");
    auto args = db.args({"--retryMaxBackoff", "200ms"});
    auto conn = std::find(args.begin(), args.end(), "--targetConn");
    ASSERT_NE(conn, args.end());
    *(conn + 1) = "postgresql://postgres:hunter2-secret@127.0.0.1:" + std::to_string(proxy.port()) +
                  "/it_startup_cut?sslmode=disable";
    db.source->exec("INSERT INTO ledger SELECT g, 'x' FROM generate_series(1, 100) g");
    Replicator r(args, harness::fresh_log("it_startup_cut"));
    EXPECT_TRUE(harness::converges(db, {"ledger"})) << r.log();
    EXPECT_EQ(proxy.cuts(), 1);
    EXPECT_NE(r.log().find("checking the target tables"), std::string::npos) << r.log();
    EXPECT_TRUE(r.running()) << r.log();
    EXPECT_EQ(r.log().find("hunter2-secret"), std::string::npos);
}

TEST(Resume, TargetSessionKilledRepeatedly) {
    run_target_kill_test("it_target_kill", "1");
}

TEST(Resume, TargetSessionsKilledRepeatedlyWithParallelism4) {
    run_target_kill_test("it_target_kill_par", "4");
}

// The acknowledgement of a COMMIT is lost: the connection drops right after the server
// committed the group. The replicator must learn from the checkpoint written with it that the
// group landed, and not apply it a second time.
void run_lost_ack_test(const std::string& name, const std::string& parallelism) {
    Databases db(name, "CREATE TABLE ledger(seq bigint PRIMARY KEY, note text);");
    count_ledger_writes(db);
    harness::CuttingProxy proxy(harness::target_port());
    auto args =
        db.args({"--parallelism", parallelism, "--maxRetries", "50", "--retryMaxBackoff", "200ms"});
    auto conn = std::find(args.begin(), args.end(), "--targetConn");
    ASSERT_NE(conn, args.end());
    *(conn + 1) = "postgresql://postgres:hunter2-secret@127.0.0.1:" + std::to_string(proxy.port()) +
                  "/" + name + "?sslmode=disable";
    Replicator r(args, harness::fresh_log(name));
    db.source->exec("INSERT INTO ledger VALUES (1, '1')");
    ASSERT_TRUE(harness::converges(db, {"ledger"}));
    proxy.arm();
    db.source->exec("INSERT INTO ledger SELECT g, '1' FROM generate_series(2, 100) g");
    // The data is visible as soon as the server commits; the cut comes a moment later.
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("shows the commit landed") != std::string::npos; }, 30s))
        << r.log();
    EXPECT_EQ(proxy.cuts(), 1);
    db.source->exec("INSERT INTO ledger VALUES (101, '1')");  // and it goes on
    EXPECT_TRUE(harness::converges(db, {"ledger"})) << r.log();
    EXPECT_TRUE(applied_once(db));
    EXPECT_TRUE(r.running()) << r.log();
}

// kill -9 while the target is still executing what the killed process sent: its backend
// goes on with the pipeline it has already read (rows, checkpoint, COMMIT) and may commit
// after the next process has read the checkpoint. The next process must wait for that
// backend before it reads the checkpoint, or it applies the group a second time (and, had
// later transactions overtaken the late commit, the late one would undo them).
TEST(Resume, KillNineWhileTheTargetStillExecutesTheLastGroup) {
    Databases db("it_zombie", "CREATE TABLE ledger(seq bigint PRIMARY KEY, note text);");
    count_ledger_writes(db);
    // Rows noted 'slow' take 300 ms each on the target.
    db.target->exec(
        "CREATE FUNCTION slow_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "  IF NEW.note = 'slow' THEN PERFORM pg_sleep(0.3); END IF; RETURN NEW; END $$;"
        "CREATE TRIGGER slow_ledger BEFORE INSERT OR UPDATE ON ledger "
        "  FOR EACH ROW EXECUTE FUNCTION slow_ledger();");
    std::string log = harness::fresh_log("it_zombie");
    auto first = std::make_unique<Replicator>(db.args({"--parallelism", "1"}), log);
    db.source->exec("INSERT INTO ledger VALUES (1, 'fast')");
    ASSERT_TRUE(harness::converges(db, {"ledger"}));
    db.source->exec("INSERT INTO ledger SELECT g, 'slow' FROM generate_series(2, 6) g");
    // Once the target is executing the slow rows, the group's whole pipeline has been sent.
    ASSERT_TRUE(harness::wait_for(
        [&] {
            return db.target->value("SELECT count(*) FROM pg_stat_activity WHERE datname = '" +
                                    db.name + "' AND wait_event = 'PgSleep'") == "1";
        },
        30s));
    first->signal(SIGKILL);
    first->wait(10s);
    first.reset();
    Replicator second(db.args({"--parallelism", "1"}), log);
    db.source->exec("INSERT INTO ledger VALUES (7, 'fast')");
    EXPECT_TRUE(harness::converges(db, {"ledger"})) << second.log();
    EXPECT_TRUE(applied_once(db)) << second.log();
    second.signal(SIGTERM);
    EXPECT_EQ(second.wait(30s), 0);
}

TEST(Resume, LostCommitAcknowledgementIsNotAppliedTwice) {
    run_lost_ack_test("it_lost_ack", "1");
}

TEST(Resume, LostCommitAcknowledgementIsNotAppliedTwiceWithParallelism) {
    run_lost_ack_test("it_lost_ack_par", "4");
}

TEST(Resume, SurvivesTargetRestart) {
    Databases db("it_target_restart", kWorkloadDdl);
    std::string log = harness::log_path("it_target_restart");
    ::unlink(log.c_str());
    Workload work(db, 3);
    work.start();
    Replicator r(db.args({"--maxRetries", "100", "--retryMaxBackoff", "500ms"}), log);
    std::this_thread::sleep_for(1s);
    std::string script = std::string(REP_SOURCE_DIR) + "/scripts/pg_servers.sh";
    ASSERT_EQ(std::system((script + " stop-target " + harness::servers_base()).c_str()), 0);
    std::this_thread::sleep_for(2s);
    ASSERT_EQ(std::system((script + " start-target " + harness::servers_base() + " " +
                           std::to_string(harness::target_port()))
                              .c_str()),
              0);
    std::this_thread::sleep_for(1s);
    work.stop();
    db.target = std::make_unique<Sql>(harness::target_port(), db.name);
    EXPECT_TRUE(converges(db));
    EXPECT_TRUE(r.running()) << r.log();
}

TEST(Resume, MillionRowTransactionWithBoundedMemory) {
    Databases db("it_big", "CREATE TABLE big(id int PRIMARY KEY, payload text)");
    Replicator r(db.args({"--flushSize", "2000"}), harness::log_path("it_big"));
    db.source->exec(
        "INSERT INTO big SELECT g, md5(g::text) || md5((g * 7)::text) "
        "FROM generate_series(1, 1000000) g");
    EXPECT_TRUE(harness::wait_for([&] { return db.target->count("big") == 1000000; }, 600s))
        << r.log();
    long peak = r.peak_rss_kib();
    EXPECT_TRUE(db.tables_match({"big"}));
    EXPECT_GT(peak, 0);
    // The queue holds 10 000 rows and a worker at most 4 x 2000 more; about 40 MiB in all.
    // (A worker queue without a bound let a streamed transaction pile up: 241 MiB.)
    EXPECT_LT(peak, 128 * 1024) << "peak resident memory " << peak << " KiB";
    RecordProperty("peak_rss_kib", std::to_string(peak));
    std::cout << "replicator peak resident memory for a 1M-row transaction: " << peak / 1024
              << " MiB\n";
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0);
}

TEST(Resume, StreamedTransactionsWithSubtransactionAborts) {
    Databases db("it_stream", "CREATE TABLE s(id int PRIMARY KEY, v text)");
    // A tiny decoding memory makes the server stream every transaction while in progress.
    auto args = db.args();
    args[2] += "?options=-c%20logical_decoding_work_mem%3D64kB";
    Replicator r(args, harness::log_path("it_stream"));
    db.source->exec(
        "BEGIN; INSERT INTO s SELECT g, 'a' FROM generate_series(1, 5000) g;"
        "SAVEPOINT sp; INSERT INTO s SELECT g, 'aborted' FROM generate_series(5001, 8000) g;"
        "ROLLBACK TO SAVEPOINT sp; UPDATE s SET v = 'b' WHERE id % 2 = 0;"
        "SAVEPOINT sp2; DELETE FROM s WHERE id < 100; RELEASE SAVEPOINT sp2; COMMIT");
    db.source->exec(
        "BEGIN; INSERT INTO s SELECT g, 'never' FROM generate_series(10001, 15000) g; ROLLBACK");
    db.source->exec("INSERT INTO s VALUES (99999, 'after')");
    std::string diff;
    EXPECT_TRUE(harness::wait_for([&] { return db.tables_match({"s"}, &diff); }, 60s)) << diff;
    EXPECT_EQ(db.target->count("s WHERE v = 'aborted' OR v = 'never'"), 0);
    EXPECT_NE(r.log().find("with streaming"), std::string::npos);
}

TEST(Resume, ProtocolOneWithoutStreaming) {
    Databases db("it_proto1", "CREATE TABLE s(id int PRIMARY KEY, v text)");
    Replicator r(db.args({"--disableStreaming"}), harness::log_path("it_proto1"));
    db.source->exec("INSERT INTO s SELECT g, 'a' FROM generate_series(1, 20000) g");
    db.source->exec("UPDATE s SET v = 'b' WHERE id % 3 = 0");
    std::string diff;
    EXPECT_TRUE(harness::wait_for([&] { return db.tables_match({"s"}, &diff); }, 60s)) << diff;
    EXPECT_NE(r.log().find("pgoutput protocol 1"), std::string::npos);
}

}  // namespace
