// Start-up checks of the target against what the source sends: every table's layout, key and
// column types, and a target foreign key whose action would reach a table that is not
// replicated.

#include "target/catalog_queries.h"
#include "util/pg_conn.h"

#include "exposition.h"
#include "harness.h"
#include "my_ledger.h"
#include <gtest/gtest.h>

#include <algorithm>

namespace {

using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

// What the parallel apply reads of the target's unique indexes and constraints
// (target::load_row_ties) from a real catalog: key columns in the index's order, without
// INCLUDE columns; expressions, partial indexes and types whose text is not canonical marked
// as not comparable; NULLS NOT DISTINCT; and the constraints that tie rows as a whole
// (exclusion).
TEST(TargetChecks, RowTiesOfUniqueIndexesAreReadFromTheCatalog) {
    Databases db("it_row_ties", "", /*create_slot=*/false);
    db.target->exec(
        "CREATE TABLE u(id int PRIMARY KEY, a text, b int, c numeric, d text, e text, f text,"
        "  UNIQUE (b, a) INCLUDE (d), UNIQUE (c));"
        "CREATE UNIQUE INDEX u_lower ON u (lower(e));"
        "CREATE UNIQUE INDEX u_partial ON u (d) WHERE d <> '';"
        "CREATE UNIQUE INDEX u_nnd ON u (f) NULLS NOT DISTINCT;"
        "CREATE TABLE booked(id int PRIMARY KEY, c circle, EXCLUDE USING gist (c WITH &&));");
    rep::util::PgConn conn("host=127.0.0.1 port=" + std::to_string(harness::target_port()) +
                               " dbname=it_row_ties user=postgres",
                           "target");
    conn.connect();
    rep::target::RowTies ties = rep::target::load_row_ties(conn);
    auto index = [&](const std::string& name) {
        auto it =
            std::find_if(ties.unique_indexes.begin(), ties.unique_indexes.end(),
                         [&](const rep::target::UniqueColumns& u) { return u.index == name; });
        EXPECT_NE(it, ties.unique_indexes.end()) << name;
        return it == ties.unique_indexes.end() ? rep::target::UniqueColumns{} : *it;
    };
    EXPECT_EQ(ties.unique_indexes.size(), 5u);
    auto ba = index("u_b_a_d_key");
    EXPECT_EQ(ba.table, "public.u");
    EXPECT_EQ(ba.columns, (std::vector<std::string>{"b", "a"}));
    EXPECT_TRUE(ba.comparable);
    EXPECT_TRUE(ba.nulls_distinct);
    EXPECT_FALSE(index("u_c_key").comparable) << "numeric: 1.0 and 1.00 are equal";
    EXPECT_EQ(index("u_lower").columns, (std::vector<std::string>{""}));
    EXPECT_FALSE(index("u_lower").comparable);
    EXPECT_FALSE(index("u_partial").comparable)
        << "a change of the predicate's columns alone moves a row in or out";
    EXPECT_FALSE(index("u_nnd").nulls_distinct);
    EXPECT_EQ(ties.tied_as_a_whole, (std::vector<std::string>{"public.booked"}));
}

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
    EXPECT_EQ(status, 2) << out;
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

// A timestamp (or an Oracle DATE) into a target column MOLT Fetch made a date: the target
// keeps the date only, as it always did, but not silently: the values that lose a time of day
// are counted per column, and the column is named in one warning.
TEST(TargetChecks, TimesOfDayIntoADateColumnAreCountedAndWarned) {
    const int port = 26516;
    Databases db("it_tc_date", "CREATE TABLE t(id int PRIMARY KEY, at timestamp, d date)");
    db.target->exec("ALTER TABLE t ALTER COLUMN at TYPE date");
    Replicator r(db.args({"--metricsAddr", "127.0.0.1:" + std::to_string(port)}),
                 fresh_log("it_tc_date"));
    db.source->exec(
        "INSERT INTO t VALUES (1, '2024-02-29 23:59:59', '2024-02-29'), "
        "(2, '2024-03-01 00:00:00', NULL), (3, '2024-03-02 12:00:00.5', '2024-03-02')");
    db.source->exec("UPDATE t SET at = '2024-03-03 00:00:01' WHERE id = 2");
    ASSERT_TRUE(harness::wait_for(
        [&] {
            return db.target->value("SELECT string_agg(at::text, ',' ORDER BY id) FROM t") ==
                   "2024-02-29,2024-03-03,2024-03-02";
        },
        60s))
        << r.log();
    nlohmann::json m;
    ASSERT_TRUE(harness::wait_for(
        [&] {
            m = harness::parse_exposition(harness::http_get(port, "/_/varz").second);
            return harness::sample(m, "apply_time_of_day_dropped_total",
                                   {{"table", "t"}, {"column", "at"}}) == 3;
        },
        10s))
        << m.dump();
    // A date column fed dates, and midnight, count nothing.
    EXPECT_EQ(harness::sample(m, "apply_time_of_day_dropped_total", {{"column", "d"}}), -1);
    std::string log = r.log();
    size_t first = log.find("column at of target table");
    ASSERT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find("column at of target table", first + 1), std::string::npos) << log;
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
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

// The target preflight reads every table the publication sends before anything is written and
// reports every problem at once, so that a migration's schema is fixed in one round; once the
// target is fixed, the same command replicates what happened meanwhile.
TEST(TargetChecks, PreflightReportsEveryProblemAtOnce) {
    Databases db("it_preflight",
                 "CREATE TABLE drift(id int PRIMARY KEY, v text);"
                 "CREATE TABLE missing(id int PRIMARY KEY);"
                 "CREATE TABLE spans(id int PRIMARY KEY, r int4range, p point, m money);"
                 "CREATE TABLE unkeyed(id int PRIMARY KEY, v text);"
                 "CREATE TABLE fine(id int PRIMARY KEY, v text)");
    db.source->exec("ALTER TABLE drift ADD COLUMN extra int");
    db.target->exec(
        "DROP TABLE missing; ALTER TABLE spans ALTER COLUMN r TYPE int USING NULL;"
        "ALTER TABLE spans ALTER COLUMN p TYPE text; ALTER TABLE unkeyed DROP CONSTRAINT "
        "unkeyed_pkey");
    db.source->exec(
        "INSERT INTO drift VALUES (1, 'a', 2); INSERT INTO missing VALUES (1);"
        "INSERT INTO spans VALUES (1, '[1,5)', '(1,2)', 12.5); INSERT INTO unkeyed VALUES (1, "
        "'a'); INSERT INTO fine VALUES (1, 'a')");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("(4 problems); nothing was written"), std::string::npos) << out;
    EXPECT_NE(out.find(R"(source table public.drift has column "extra")"), std::string::npos)
        << out;
    EXPECT_NE(out.find("source table public.missing has no target table public.missing"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(R"(column "r" of source table public.spans is int4range (range), and )"
                       R"(target table public.spans's column of type integer cannot take its )"
                       R"(values)"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find(R"(column "p")"), std::string::npos) << out;  // text takes a point
    EXPECT_EQ(out.find(R"(column "m")"), std::string::npos) << out;  // money into money
    EXPECT_NE(out.find("target table public.unkeyed has no primary key"), std::string::npos) << out;
    EXPECT_NE(out.find("--skipTargetCheck schema"), std::string::npos) << out;
    EXPECT_EQ(db.target->count("fine"), 0);

    // Without the type check, the rest is still reported.
    std::tie(status, out) = harness::run_replicator(db.args({"--skipTargetCheck", "types"}), 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("(3 problems)"), std::string::npos) << out;

    db.target->exec(
        "ALTER TABLE drift ADD COLUMN extra int; CREATE TABLE missing(id int PRIMARY KEY);"
        "ALTER TABLE spans ALTER COLUMN r TYPE int4range USING NULL;"
        "ALTER TABLE unkeyed ADD PRIMARY KEY (id)");
    Replicator r(db.args(), fresh_log("it_preflight"));
    db.source->exec("INSERT INTO spans VALUES (2, '[3,4]', '(0,0)', 1)");
    EXPECT_TRUE(harness::wait_for([&] { return db.target->count("spans") == 2; }, 30s)) << r.log();
    EXPECT_TRUE(harness::converges(db, {"drift", "missing", "unkeyed", "fine"})) << r.log();
    EXPECT_EQ(
        db.target->value("SELECT string_agg(r::text || ' ' || p, ';' ORDER BY id) FROM spans"),
        "[1,5) (1,2);[3,5) (0,0)");
}

// mylogical reads the replicated tables from the source database's catalog.
TEST(TargetChecks, MylogicalRefusesACascadeIntoATableThatIsNotReplicated) {
    harness::MyDatabases db("my_cascade", "CREATE TABLE parent(id int PRIMARY KEY, v text)",
                            "CREATE TABLE parent(id int PRIMARY KEY, v text);"
                            "CREATE TABLE audit(id int PRIMARY KEY,"
                            "  parent int REFERENCES parent ON DELETE SET NULL)");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("public.audit (not replicated) references public.parent ON DELETE SET NULL"),
              std::string::npos)
        << out;
}

}  // namespace
