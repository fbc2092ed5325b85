// Start-up checks of the target against what the source sends: a target foreign key whose
// action would reach a table that is not replicated.

#include "harness.h"
#include "my_ledger.h"
#include <gtest/gtest.h>

namespace {

using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

// A target-only audit table referencing a replicated parent ON DELETE CASCADE: applying the
// source's DELETE of a parent row would silently delete its audit rows on the target. The
// cascade between two replicated tables is fine: the source sends the child's deletes too.
TEST(TargetChecks, CascadeIntoATableThatIsNotReplicatedIsRefused) {
    Databases db("it_cascade",
                 "CREATE TABLE parent(id int PRIMARY KEY, v text);"
                 "CREATE TABLE child(id int PRIMARY KEY,"
                 "  parent int REFERENCES parent ON DELETE CASCADE)");
    db.target->exec(
        "CREATE TABLE audit(id int PRIMARY KEY,"
        "  parent int CONSTRAINT audit_parent REFERENCES parent ON DELETE CASCADE);"
        "CREATE TABLE keep(id int PRIMARY KEY, parent int REFERENCES parent ON DELETE "
        "RESTRICT)");
    db.source->exec(
        "INSERT INTO parent VALUES (1, 'a'), (2, 'b'); INSERT INTO child VALUES (1, 1)");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("public.audit (not replicated) references public.parent ON DELETE CASCADE "
                       "(constraint audit_parent)"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("public.child (not"), std::string::npos) << out;
    EXPECT_EQ(out.find("public.keep"), std::string::npos) << out;  // RESTRICT fails loudly
    EXPECT_NE(out.find("--skipTargetCheck cascades"), std::string::npos) << out;
    EXPECT_EQ(db.target->count("parent"), 0);

    // The operator who wants the cascade says so.
    Replicator r(db.args({"--skipTargetCheck", "cascades"}), fresh_log("it_cascade"));
    EXPECT_TRUE(harness::converges(db, {"parent", "child"})) << r.log();
    db.target->exec("INSERT INTO audit VALUES (10, 2)");
    db.source->exec("DELETE FROM parent WHERE id = 2");
    EXPECT_TRUE(harness::wait_for([&] { return db.target->count("audit") == 0; }, 30s)) << r.log();
}

// Batches of wide rows go out in pieces under --targetMaxMessageBytes (CockroachDB refuses a
// message over 16 MiB); on a real server the pieces of one segment, deletes and key changes
// included, must add up to what the source did.
TEST(TargetChecks, WideBatchesWrittenInPiecesArriveWhole) {
    Databases db("it_wide", "CREATE TABLE t(id int PRIMARY KEY, v text, w text)");
    Replicator r(db.args({"--targetMaxMessageBytes", "4096"}), fresh_log("it_wide"));
    db.source->exec(
        "INSERT INTO t SELECT g, repeat(md5(g::text), 20), repeat('\\\"', 100) "
        "FROM generate_series(1, 500) g");
    db.source->exec(
        "BEGIN; UPDATE t SET id = id + 1000 WHERE id % 3 = 0; DELETE FROM t WHERE id % 5 = 0;"
        "UPDATE t SET v = repeat('y', 9000) WHERE id = 7; COMMIT");
    EXPECT_TRUE(harness::converges(db, {"t"})) << r.log();
}

// Enums, domains and arrays of them in another schema, with names that need quoting, are
// cast by their qualified, quoted names (CockroachDB's format_type spells them bare), and
// values of collated columns carry the column's COLLATE (CockroachDB requires it).
TEST(TargetChecks, UserDefinedTypesInAnotherSchemaAreCastByQualifiedNames) {
    Databases db("it_udt",
                 R"(CREATE SCHEMA "Other Schema";
                    CREATE TYPE "Other Schema"."Mood Type" AS ENUM ('happy', 'so-so', 'sad');
                    CREATE DOMAIN "Other Schema"."Small" AS int CHECK (VALUE < 100);
                    CREATE COLLATION "Other Schema"."My Coll" (provider = icu, locale = 'de');
                    CREATE TABLE t(id int PRIMARY KEY, m "Other Schema"."Mood Type",
                                   ms "Other Schema"."Mood Type"[], s "Other Schema"."Small",
                                   c text COLLATE "C",
                                   d varchar(20) COLLATE "Other Schema"."My Coll");
                    CREATE TABLE k(k text COLLATE "C" PRIMARY KEY, v text))");
    Replicator r(db.args(), fresh_log("it_udt"));
    db.source->exec(
        R"(INSERT INTO t VALUES (1, 'happy', '{sad,so-so}', 7), (2, NULL, '{}', NULL),
                                (3, 'sad', NULL, 99))");
    db.source->exec(
        "UPDATE t SET m = 'so-so', ms = ms || 'happy'::\"Other Schema\".\"Mood Type\", "
        "c = 'Zürich', d = 'Äpfel' WHERE id = 1");
    db.source->exec(
        "INSERT INTO k VALUES ('a', '1'), ('B', '2'); UPDATE k SET k = 'b' WHERE k = 'a'");
    EXPECT_TRUE(harness::converges(db, {"t", "k"})) << r.log();
}

// mylogical reads the replicated tables from the source database's catalog.
TEST(TargetChecks, MylogicalRefusesACascadeIntoATableThatIsNotReplicated) {
    harness::MyDatabases db("my_cascade", "CREATE TABLE parent(id int PRIMARY KEY, v text)",
                            "CREATE TABLE parent(id int PRIMARY KEY, v text);"
                            "CREATE TABLE audit(id int PRIMARY KEY,"
                            "  parent int REFERENCES parent ON DELETE SET NULL)");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("public.audit (not replicated) references public.parent ON DELETE SET NULL"),
              std::string::npos)
        << out;
}

}  // namespace
