// Parallel apply (--parallelism > 1): several target connections, per-row source order,
// commits in source order (and, with --unorderedCommits, the checkpoint records beside the
// plain memo row). The kill -9 suites in resume_test.cc
// cover crash recovery with parallelism; these cover the steady behaviour and the flags.

#include "harness.h"
#include "parallel_workloads.h"
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <signal.h>
#include <thread>

namespace {

using harness::converges;
using harness::Databases;
using harness::fresh_log;
using harness::overlapping_writes;
using harness::Replicator;
using harness::slow_and_noted;
using harness::Sql;
using harness::UniqueWorkload;
using namespace std::chrono_literals;

// Source transactions insert rows, and every hundredth one also bumps one of five hot counters.
// While the target catches up on several connections, no counter may ever go backwards
// there: the changes of one row apply in source order whatever connection carries them. And
// the connections do work at once: several of them are seen writing at the same moment.
// Commits keep source order, so the target's `cold` (one row per source transaction, ids in
// commit order) is a prefix 1..N at every sample, however many connections write at once.
// With `unordered` (--unorderedCommits) it need not be, and each worker keeps a checkpoint
// record.
void run_hot_counters(const std::string& name, bool unordered) {
    Databases db(name,
                 "CREATE TABLE hot(k int PRIMARY KEY, v bigint NOT NULL);"
                 "CREATE TABLE cold(id bigint PRIMARY KEY, payload text);");
    db.source->exec("INSERT INTO hot SELECT g, 0 FROM generate_series(0, 4) g");
    // A slow target (half a millisecond per row written to cold): groups pile up while
    // earlier ones are applying, so independent ones go to other workers.
    slow_and_noted(*db.target, "cold");
    const std::string key = "pglogical-wal-offset-" + name + ".public";
    std::string log = fresh_log(name);
    // --fixedParallelism: all four take independent groups whatever the commit rate (on a
    // machine whose cores the test saturates, the adaptive limit would often keep one).
    // --timestampLimit 20: groups stay at 20 transactions in the backlog instead of growing,
    // so most of them hold no hot row and go to other workers than the one that holds it.
    std::vector<std::string> args = {
        "--parallelism", "4", "--fixedParallelism", "--flushSize", "20", "--timestampLimit", "20"};
    if (unordered) {
        args.emplace_back("--unorderedCommits");
    }
    Replicator r(db.args(args), log);
    ASSERT_TRUE(converges(db, {"hot", "cold"}));

    std::atomic<bool> stop{false};
    std::atomic<long> regressions{0};
    std::atomic<long> samples{0};
    std::atomic<long> gaps{0};
    std::string first_gap;
    std::thread sampler([&] {
        Sql dst(harness::target_port(), db.name);
        std::vector<long long> last(5, 0);
        while (!stop) {
            for (const auto& row : dst.rows("SELECT k, v FROM hot ORDER BY k")) {
                size_t k = std::stoul(*row[0]);
                long long v = std::stoll(*row[1]);
                if (v < last[k]) {
                    ++regressions;
                }
                last[k] = std::max(last[k], v);
            }
            auto cold = dst.rows("SELECT count(*), coalesce(max(id), 0) FROM cold");
            if (*cold[0][0] != *cold[0][1] && gaps++ == 0) {
                first_gap = *cold[0][0] + " rows up to id " + *cold[0][1];
            }
            ++samples;
            std::this_thread::sleep_for(5ms);
        }
    });
    // 6000 source transactions, one COMMIT each.
    db.source->exec(
        "DO $$ BEGIN FOR i IN 1..6000 LOOP "
        "  IF i % 100 = 0 THEN UPDATE hot SET v = v + 1 WHERE k = (i / 100) % 5; END IF;"
        "  INSERT INTO cold VALUES (i, repeat('x', i % 50)); COMMIT; END LOOP; END $$");
    EXPECT_TRUE(converges(db, {"hot", "cold"}));
    stop = true;
    sampler.join();
    EXPECT_GT(samples, 10);
    EXPECT_EQ(regressions, 0) << "a counter went backwards on the target";
    // Two target transactions on different connections whose writes interleave in time:
    // the workers did execute at once (in ordered mode too, where only COMMITs wait).
    EXPECT_GT(overlapping_writes(*db.target), 0) << "the connections never wrote at the same time";
    if (!unordered) {
        EXPECT_EQ(gaps, 0) << "the target showed a transaction before an earlier one: "
                           << first_gap;
    }

    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
    // Stopped cleanly: the plain row holds the final position, which the slot confirms, and
    // with unordered commits the workers' records sit beside it.
    auto plain = db.target->value(
        "SELECT convert_from(value, 'UTF8') FROM _replicator.memo WHERE key = '" + key + "'");
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(
        db.source->value("SELECT confirmed_flush_lsn = '" + *plain +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + db.slot + "'"),
        "t");
    auto records = db.target->rows(
        "SELECT key, convert_from(value, 'UTF8') FROM _replicator.memo "
        "WHERE key LIKE '" +
        key + "#%' ORDER BY key");
    if (!unordered) {
        EXPECT_EQ(records.size(), 0u) << "commits in source order need no records";
        return;
    }
    // Independent groups went to more than one worker: each writes a record of its own.
    EXPECT_GE(records.size(), 2u) << r.log();
    for (const auto& row : records) {
        EXPECT_EQ(row[0]->rfind(key + "#w", 0), 0u) << *row[0];
        EXPECT_EQ(row[1]->rfind("prefix ", 0), 0u) << *row[1];
    }

    // A serial run takes over from the same checkpoint: the records are folded into the
    // plain row, and nothing is applied twice or lost.
    Replicator serial(db.args({"--parallelism", "1"}), log);
    db.source->exec("UPDATE hot SET v = v + 1000; INSERT INTO cold VALUES (-1, 'after')");
    EXPECT_TRUE(converges(db, {"hot", "cold"}));
    EXPECT_EQ(
        db.target->value("SELECT count(*) FROM _replicator.memo WHERE key LIKE '" + key + "#%'"),
        "0");
    EXPECT_EQ(serial.log().find("committed beyond"), std::string::npos)
        << "a clean stop leaves nothing beyond the checkpoint";
}

TEST(Parallel, SeveralConnectionsKeepEveryRowInSourceOrder) {
    run_hot_counters("it_par", /*unordered=*/false);
}

TEST(Parallel, UnorderedCommitsKeepEveryRowInSourceOrderWithRecords) {
    run_hot_counters("it_par_unordered", /*unordered=*/true);
}

// Commits in source order cannot deadlock on a lock the replicator does not know about. A
// target-only trigger makes every row of `b` update one row of `tally`: transaction 1's row
// takes that lock only after a pause, transaction 2's at once, so transaction 2 (on another
// connection, as the rows share no key) holds it while it waits for its turn, and
// transaction 1 waits for it. The later one must give way: roll back, let the earlier one
// commit, and apply again.
TEST(Parallel, LaterTransactionGivesWayToAnEarlierOneWaitingForItsLock) {
    Databases db("it_giveway", "CREATE TABLE b(id int PRIMARY KEY, v text);");
    db.target->exec(
        "CREATE TABLE tally(k int PRIMARY KEY, n int); INSERT INTO tally VALUES (1, 0);"
        "CREATE FUNCTION count_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "  IF NEW.id % 2 = 1 THEN PERFORM pg_sleep(0.5); END IF;"
        "  UPDATE tally SET n = n + 1 WHERE k = 1; RETURN NEW; END $$;"
        "CREATE TRIGGER count_row BEFORE INSERT ON b FOR EACH ROW EXECUTE FUNCTION count_row();");
    std::string log = fresh_log("it_giveway");
    // A slow first commit keeps the replicator busy, so the two transactions below queue up
    // and go to two connections at once.
    Replicator r(db.args({"--parallelism", "4", "--flushSize", "1"}), log);
    ASSERT_TRUE(converges(db, {"b"}));
    db.source->exec("INSERT INTO b VALUES (1, 'first')");
    db.source->exec("INSERT INTO b VALUES (2, 'second')");
    EXPECT_TRUE(converges(db, {"b"}, 60s)) << r.log();
    EXPECT_EQ(db.target->value("SELECT n FROM tally"), "2") << "each row counted once";
    EXPECT_NE(r.log().find("waited 2000 ms for earlier transactions"), std::string::npos)
        << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// Tables joined by a foreign key stay in source order with each other: a child row never
// arrives before its parent, and a parent is never deleted before its children.
TEST(Parallel, ForeignKeyChainsApplyInOrder) {
    Databases db("it_par_fk",
                 "CREATE TABLE parent(id int PRIMARY KEY);"
                 "CREATE TABLE child(id int PRIMARY KEY, parent_id int NOT NULL "
                 "  REFERENCES parent(id));"
                 "CREATE TABLE other(id int PRIMARY KEY);");
    int round = 0;
    for (const char* extra : {"false", "true"}) {
        Replicator r(db.args({"--parallelism", "8", "--enableParallelApplies", extra}),
                     fresh_log("it_par_fk"));
        db.source->exec("TRUNCATE child, parent, other");  // a barrier: runs alone
        // `other` differs from round to round, so the target cannot match the source before
        // this round has been applied (and the replicator be stopped while it starts).
        db.source->exec(
            "DO $$ BEGIN FOR i IN 1..800 LOOP "
            "  INSERT INTO parent VALUES (i); COMMIT;"
            "  INSERT INTO child VALUES (i, i); INSERT INTO other VALUES (i + " +
            std::to_string(1000 * round++) +
            "); COMMIT;"
            "  DELETE FROM child WHERE id = i - 1; COMMIT;"
            "  DELETE FROM parent WHERE id = i - 1; COMMIT; END LOOP; END $$");
        EXPECT_TRUE(converges(db, {"parent", "child", "other"})) << r.log();
        EXPECT_TRUE(r.running()) << r.log();
        r.signal(SIGTERM);
        EXPECT_EQ(r.wait(30s), 0);
    }
}

// Foreign keys are tracked per referenced row: children of different parents, and of one
// parent, apply on several connections at once, while a child never arrives before its parent
// and a parent's delete (cascading to its children) never overtakes a change of a child that
// referred to it. A random workload over few parents (heavy contention: children move between
// them, parents come and go), compared row for row; a target trigger slows every write and
// notes when it happened, so the test sees the connections write at once.
TEST(Parallel, ForeignKeysAreTrackedPerReferencedRow) {
    Databases db("it_par_fk_rows",
                 "CREATE TABLE accounts(id int PRIMARY KEY, name text);"
                 "CREATE TABLE entries(id int PRIMARY KEY, account int REFERENCES accounts "
                 "  ON DELETE CASCADE, amount int);");
    slow_and_noted(*db.target, "entries");
    db.source->exec("INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 8) g");
    std::mt19937 rng(5);
    std::string work;
    int next_account = 9;
    for (int t = 0; t < 1500; ++t) {
        int entry = static_cast<int>(rng() % 3000);
        int account = 1 + static_cast<int>(rng() % static_cast<uint32_t>(next_account - 1));
        std::string e = std::to_string(entry);
        std::string a = std::to_string(account);
        uint32_t dice = rng() % 100;
        if (dice < 1) {  // a parent goes, with its children; another comes
            work += "DELETE FROM accounts WHERE id = " + a + ";";
            work += "INSERT INTO accounts VALUES (" + a + ", 'again');";
        } else if (dice < 5) {
            work += "INSERT INTO accounts VALUES (" + std::to_string(next_account++) + ", 'new');";
        } else if (dice < 15) {  // a child moves to another parent
            work += "UPDATE entries SET account = " + a + " WHERE id = " + e + ";";
        } else if (dice < 20) {
            work += "DELETE FROM entries WHERE id = " + e + ";";
        } else {
            work += "INSERT INTO entries VALUES (" + e + ", " + a + ", " + std::to_string(t) +
                    ") ON CONFLICT (id) DO UPDATE SET amount = " + std::to_string(t) + ";";
        }
        work += "COMMIT;";
    }
    Replicator r(db.args({"--parallelism", "4", "--fixedParallelism", "--flushSize", "20",
                          "--timestampLimit", "20"}),
                 fresh_log(db.name));
    db.source->exec("DO $$ BEGIN " + work + " END $$");
    EXPECT_TRUE(converges(db, {"accounts", "entries"}, 120s)) << r.log();
    EXPECT_GT(overlapping_writes(*db.target), 0)
        << "the connections never wrote entries at the same time";
    EXPECT_TRUE(r.running()) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// Unique indexes are tracked per value: rows taking values others freed a moment before (by
// an update, a delete or a swap) never apply before the change that freed them, which the
// target's unique index would refuse (23505 stops the run), while inserts of other values go
// on several connections at once. `users` sends whole old rows (REPLICA IDENTITY FULL), so
// its updates free known values; `codes` sends none, so its updates order every change of
// its index. Compared row for row. A last run of inserts of new values into `users` shows
// the connections writing at once (with the index ordering the table as a whole they never
// did).
TEST(Parallel, UniqueIndexesAreTrackedPerValue) {
    Databases db("it_par_unique",
                 "CREATE TABLE users(id int PRIMARY KEY, email text UNIQUE, n int);"
                 "CREATE TABLE codes(id int PRIMARY KEY, email text UNIQUE, n int);");
    db.source->exec("ALTER TABLE users REPLICA IDENTITY FULL");
    slow_and_noted(*db.target, "users");
    std::mt19937 rng(11);
    UniqueWorkload users{"users"};
    UniqueWorkload codes{"codes"};
    // Many rows, so that groups seldom share a key and are ordered by their values only.
    db.source->exec(users.seed(1000) + codes.seed(300));
    std::string work;
    for (int t = 0; t < 1200; ++t) {
        work += (rng() % 4 == 0 ? codes : users).step(rng, t) + "COMMIT;";
    }
    for (int t = 0; t < 400; ++t) {
        work += users.insert_new(t) + "COMMIT;";
    }
    Replicator r(db.args({"--parallelism", "4", "--fixedParallelism", "--flushSize", "20",
                          "--timestampLimit", "20"}),
                 fresh_log(db.name));
    db.source->exec("DO $$ BEGIN " + work + " END $$");
    EXPECT_TRUE(converges(db, {"users", "codes"}, 120s)) << r.log();
    EXPECT_GT(overlapping_writes(*db.target), 0)
        << "the connections never wrote users at the same time";
    // A change that took a value before an earlier one freed it fails on the target's index,
    // and is then applied again in source order: correct in the end, but it must not happen.
    EXPECT_EQ(r.log().find("SQLSTATE 23505"), std::string::npos) << r.log();
    EXPECT_TRUE(r.running()) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

TEST(Parallel, ParallelismMustFitTheTargetPool) {
    Databases db("it_par_pool", "", /*create_slot=*/false);
    auto [status, out] =
        harness::run_replicator(db.args({"--parallelism", "16", "--targetMaxPoolSize", "16"}), 30s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("--parallelism 16 needs --targetMaxPoolSize of at least 20"),
              std::string::npos)
        << out;
}

}  // namespace
