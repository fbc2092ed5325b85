// Checkpoints written in the documented format (docs/staging.md §2-4) are resumed from
// exactly: rows the memo says are applied are not applied again, the rest are. The rows are
// written here by hand, as an earlier version (or MOLT Replicator) left them, so a change to
// the format or its reading fails these tests. (mylogical_test.cc has the mylogical case.)

#include "harness.h"
#include <gtest/gtest.h>

#include <signal.h>

namespace {

using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

// The staging table exactly as docs/staging.md §2 specifies it for PostgreSQL.
void create_memo(Databases& db) {
    db.target->exec(
        "CREATE SCHEMA _replicator;"
        "CREATE TABLE _replicator.memo (key TEXT PRIMARY KEY, value BYTEA NOT NULL)");
}

void write_memo(Databases& db, const std::string& key, const std::string& value) {
    db.target->exec("INSERT INTO _replicator.memo VALUES ('" + key + "', convert_to('" + value +
                    "', 'UTF8'))");
}

// Where the source's WAL ends now: past the commit record of every transaction so far. (The
// insert position: the test servers run with synchronous_commit off, so the write position
// may still lag behind the last commit.)
std::string current_lsn(Databases& db) {
    return db.source->value("SELECT pg_current_wal_insert_lsn()::text").value();
}

// Rows the target holds that differ from the source on purpose: if they were applied again
// from the source, the marker would be gone.
const char* kMarker = "target copy";

TEST(CheckpointFormat, PglogicalResumesFromAPlainLsnRow) {
    Databases db("it_memo_plain", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    create_memo(db);
    db.source->exec("INSERT INTO t SELECT g, 'source' FROM generate_series(1, 50) g");
    std::string after_first = current_lsn(db);
    db.source->exec("INSERT INTO t SELECT g, 'source' FROM generate_series(51, 100) g");
    // The target already has the first transaction (with a marker), and the memo says so.
    db.target->exec(std::string("INSERT INTO t SELECT g, '") + kMarker +
                    "' FROM generate_series(1, 50) g");
    write_memo(db, "pglogical-wal-offset-it_memo_plain.public", after_first);

    Replicator r(db.args({"--parallelism", "1"}), fresh_log("it_memo_plain"));
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 100; }, 60s)) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
    EXPECT_NE(r.log().find("resuming from LSN " + after_first), std::string::npos) << r.log();
    EXPECT_EQ(db.target->count("t WHERE v = 'target copy'"), 50);
    EXPECT_EQ(db.target->count("t WHERE v = 'source' AND id > 50"), 50);
}

TEST(CheckpointFormat, PglogicalSkipsWhatParallelRecordsList) {
    Databases db("it_memo_records", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    create_memo(db);
    db.source->exec("INSERT INTO t SELECT g, 'source' FROM generate_series(1, 10) g");
    std::string prefix = current_lsn(db);
    db.source->exec("INSERT INTO t SELECT g, 'source' FROM generate_series(11, 20) g");
    std::string gap_start = current_lsn(db);
    db.source->exec("INSERT INTO t SELECT g, 'source' FROM generate_series(21, 30) g");
    std::string gap_end = current_lsn(db);
    db.source->exec("INSERT INTO t SELECT g, 'source' FROM generate_series(31, 40) g");
    // An earlier parallel run committed the first and the third transaction; the second was
    // in flight. Worker 1's record lists the third by the range around its commit record.
    db.target->exec(std::string("INSERT INTO t SELECT g, '") + kMarker +
                    "' FROM generate_series(1, 10) g");
    db.target->exec(std::string("INSERT INTO t SELECT g, '") + kMarker +
                    "' FROM generate_series(21, 30) g");
    const std::string key = "pglogical-wal-offset-it_memo_records.public";
    write_memo(db, key, prefix);
    write_memo(db, key + "#w1", "prefix " + prefix + " applied " + gap_start + "-" + gap_end);

    Replicator r(db.args({"--parallelism", "4"}), fresh_log("it_memo_records"));
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 40; }, 60s)) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
    EXPECT_NE(r.log().find("1 range(s) of source transactions were committed beyond LSN " + prefix),
              std::string::npos)
        << r.log();
    EXPECT_EQ(db.target->count("t WHERE v = 'target copy' AND id <= 10"), 10);
    EXPECT_EQ(db.target->count("t WHERE v = 'source' AND id BETWEEN 11 AND 20"), 10);
    EXPECT_EQ(db.target->count("t WHERE v = 'target copy' AND id BETWEEN 21 AND 30"), 10);
    EXPECT_EQ(db.target->count("t WHERE v = 'source' AND id > 30"), 10);
}

// The slot was dropped and created again after the checkpoint: the changes in between are
// gone. The replicator says so instead of starting at the new slot as if nothing happened.
TEST(CheckpointFormat, SlotAheadOfTheCheckpointIsRefused) {
    Databases db("it_slot_gap", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    Replicator first(db.args(), fresh_log("it_slot_gap"));
    db.source->exec("INSERT INTO t SELECT g, 'replicated' FROM generate_series(1, 10) g");
    ASSERT_TRUE(harness::converges(db, {"t"}));
    first.signal(SIGTERM);
    ASSERT_EQ(first.wait(30s), 0) << first.log();
    // As the replicator advised once the slot was gone: create it again. Rows written
    // without a slot are never decoded.
    db.source->exec("SELECT pg_drop_replication_slot('slot_it_slot_gap')");
    db.source->exec("INSERT INTO t SELECT g, 'lost' FROM generate_series(11, 110) g");
    db.source->exec("SELECT pg_create_logical_replication_slot('slot_it_slot_gap', 'pgoutput')");
    db.source->exec("INSERT INTO t SELECT g, 'after' FROM generate_series(111, 120) g");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("ahead of the checkpoint"), std::string::npos) << out;
    EXPECT_NE(out.find(" bytes of WAL"), std::string::npos) << out;  // how much was lost
    EXPECT_NE(out.find("--acceptDataLoss"), std::string::npos) << out;
    EXPECT_EQ(db.target->count("t"), 10);
    // Accepting the loss goes on from the new slot.
    Replicator r(db.args({"--acceptDataLoss"}), fresh_log("it_slot_gap"));
    EXPECT_TRUE(harness::wait_for([&] { return db.target->count("t") == 20; }, 30s)) << r.log();
    EXPECT_EQ(db.target->count("t WHERE v = 'lost'"), 0);
    r.signal(SIGTERM);
    ASSERT_EQ(r.wait(30s), 0) << r.log();
    // Once is enough: the checkpoint has caught up with the new slot.
    Replicator again(db.args(), fresh_log("it_slot_gap"));
    db.source->exec("INSERT INTO t VALUES (121, 'later')");
    EXPECT_TRUE(harness::wait_for([&] { return db.target->count("t") == 21; }, 30s)) << again.log();
}

// A quiet source: keepalives move the slot only once the checkpoint records their position,
// so the slot never passes the memo (and a restart finds them equal).
TEST(CheckpointFormat, SlotNeverPassesTheCheckpoint) {
    Databases db("it_slot_memo",
                 "CREATE TABLE t(id int PRIMARY KEY); CREATE TABLE other(x int "
                 "PRIMARY KEY)");
    db.source->exec("SELECT pg_drop_replication_slot('slot_it_slot_memo')");
    db.source->exec("DROP PUBLICATION pub_it_slot_memo");
    db.source->exec("CREATE PUBLICATION pub_it_slot_memo FOR TABLE t");
    db.source->exec("SELECT pg_create_logical_replication_slot('slot_it_slot_memo', 'pgoutput')");
    Replicator r(db.args(), fresh_log("it_slot_memo"));
    db.source->exec("INSERT INTO t VALUES (1)");
    ASSERT_TRUE(harness::converges(db, {"t"}));
    // Transactions the publication leaves out move the slot, through keepalives.
    for (int i = 0; i < 20; ++i) {
        db.source->exec("INSERT INTO other VALUES (" + std::to_string(i) + ")");
    }
    std::string end = current_lsn(db);
    EXPECT_TRUE(harness::wait_for(
        [&] {
            return db.source->value("SELECT confirmed_flush_lsn >= '" + end +
                                    "' FROM pg_replication_slots WHERE slot_name = "
                                    "'slot_it_slot_memo'") == "t";
        },
        30s));
    auto memo = db.target->value(
        "SELECT convert_from(value, 'UTF8') FROM _replicator.memo WHERE key = "
        "'pglogical-wal-offset-it_slot_memo.public'");
    ASSERT_TRUE(memo);
    EXPECT_EQ(db.source->value("SELECT confirmed_flush_lsn <= '" + *memo +
                               "' FROM pg_replication_slots WHERE slot_name = 'slot_it_slot_memo'"),
              "t");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0);
    // And the next start is not mistaken for a re-created slot.
    Replicator again(db.args(), fresh_log("it_slot_memo"));
    db.source->exec("INSERT INTO t VALUES (2)");
    EXPECT_TRUE(harness::converges(db, {"t"})) << again.log();
}

TEST(CheckpointFormat, MalformedPlainRowStopsWithTheRowNamed) {
    Databases db("it_memo_bad", "CREATE TABLE t(id int PRIMARY KEY)");
    create_memo(db);
    write_memo(db, "pglogical-wal-offset-it_memo_bad.public", "not-an-lsn");
    auto [status, out] = harness::run_replicator(db.args(), 30s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("pglogical-wal-offset-it_memo_bad.public"), std::string::npos) << out;
    EXPECT_NE(out.find("not-an-lsn"), std::string::npos) << out;
    EXPECT_NE(out.find("not a valid LSN"), std::string::npos) << out;
}

}  // namespace
