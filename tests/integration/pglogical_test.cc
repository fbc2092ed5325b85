// End-to-end tests of `replicator pglogical` against real PostgreSQL source and target
// servers. Every test compares whole tables on source and target, as a user would.

#include "harness.h"
#include <gtest/gtest.h>

#include <signal.h>

namespace {

using harness::converges;
using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

TEST(Pglogical, ReplicatesInsertsUpdatesDeletesAndKeyChanges) {
    Databases db("it_dml",
                 "CREATE TABLE a(id bigint PRIMARY KEY, v text, n int);"
                 "CREATE TABLE b(k1 int, k2 text, payload jsonb, PRIMARY KEY (k1, k2));");
    Replicator r(db.args(), fresh_log("it_dml"));
    db.source->exec("INSERT INTO a SELECT g, 'v' || g, g FROM generate_series(1, 500) g");
    db.source->exec(
        "INSERT INTO b SELECT g % 7, 'k' || g, jsonb_build_object('g', g) "
        "FROM generate_series(1, 300) g");
    db.source->exec("UPDATE a SET v = 'updated', n = NULL WHERE id % 3 = 0");
    db.source->exec("DELETE FROM a WHERE id BETWEEN 100 AND 150");
    db.source->exec("UPDATE a SET id = id + 100000 WHERE id % 10 = 1");  // primary key changes
    db.source->exec("UPDATE b SET k2 = k2 || '-moved' WHERE k1 = 3");
    db.source->exec(
        "BEGIN; INSERT INTO a VALUES (-1, 'x', 1); UPDATE a SET v = 'y' WHERE id = -1;"
        "DELETE FROM a WHERE id = -1; INSERT INTO a VALUES (-1, 'z', 2); COMMIT");
    EXPECT_TRUE(converges(db, {"a", "b"}));
    EXPECT_EQ(db.target->count("a WHERE id % 10 = 1 AND id < 100000"), 0)
        << "rows whose key changed must not linger";
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
    std::string log = r.log();
    EXPECT_NE(log.find("stopped; everything up to LSN"), std::string::npos) << log;
    EXPECT_EQ(log.find("hunter2-secret"), std::string::npos) << "password leaked into the log";
    // The checkpoint is the slot's confirmed position: the source may release the WAL.
    auto memo = db.target->value(
        "SELECT convert_from(value, 'UTF8') FROM _replicator.memo "
        "WHERE key = 'pglogical-wal-offset-it_dml.public'");
    ASSERT_TRUE(memo.has_value());
    auto confirmed =
        db.source->value("SELECT confirmed_flush_lsn >= '" + *memo +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + db.slot + "'");
    EXPECT_EQ(confirmed, "t");
}

TEST(Pglogical, EveryBuiltInTypeRoundTripsExactly) {
    const std::string ddl = R"(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE types(
  id int PRIMARY KEY, c_small smallint, c_int integer, c_big bigint, c_num numeric,
  c_num_p numeric(20,5), c_real real, c_double double precision, c_bool boolean, c_text text,
  c_varchar varchar(10), c_char char(5), c_bytea bytea, c_date date, c_time time, c_timetz timetz,
  c_ts timestamp, c_tstz timestamptz, c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb,
  c_inet inet, c_cidr cidr, c_macaddr macaddr, c_bit bit(5), c_varbit varbit(20), c_enum mood,
  c_int_arr int[], c_text_arr text[], c_2d int[][], c_enum_arr mood[], c_num_arr numeric[],
  c_ts_arr timestamptz[]);)";
    Databases db("it_types", ddl);
    db.source->exec("SET TimeZone = 'UTC'");
    db.source->exec(R"(INSERT INTO types VALUES
 (1, -32768, -2147483648, -9223372036854775808, 123456789012345678901234567890.123456789012345678901234567890,
  -12345678901234.56789, 3.4028235e38, 1.7976931348623157e308, true, 'plain text with ''quotes'' and "dq" \ backslash',
  'ten chars!', 'ab', '\x00ff10de', '2024-02-29', '23:59:59.999999', '12:00:00+05:30',
  '2000-01-01 00:00:00.000001', '1999-12-31 23:59:59.999999+00', '1 year 2 months 3 days 04:05:06.789',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2, {"n": null}], "s": "x"}', '{"b": 1, "a": [true, false]}',
  '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'10101', B'1101', 'happy',
  '{1,NULL,3}', '{"a","b c",NULL,"{x}","NULL",""}', '{{1,2},{3,4}}', '{sad,happy}', '{1.5,NaN,-0.0001}',
  '{"2020-01-01 00:00:00+00",NULL}'),
 (2, 32767, 2147483647, 9223372036854775807, 'NaN', 0, 'NaN', '-Infinity', false, '',
  '', '', '\x', '4713-01-01 BC', '00:00', '00:00:00-12', 'infinity', '-infinity', '-178000000 years',
  '00000000-0000-0000-0000-000000000000', '[]', 'null', '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', B'00000', B'', 'sad',
  '{}', '{}', '{}', '{}', '{}', '{}'),
 (3, 0, 0, 0, 0.000000000000000000001, 0, 'Infinity', 1e-300, NULL, E'unicode \u00e9\u4e2d\U0001F600 tab\t newline\n',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))");
    db.source->exec(
        "INSERT INTO types (id, c_bytea) SELECT 10 + g, decode(repeat(lpad(to_hex(g), 2, '0'), 3), "
        "'hex') "
        "FROM generate_series(0, 255) g");
    Replicator r(db.args(), fresh_log("it_types"));
    EXPECT_TRUE(converges(db, {"types"}));
    db.source->exec("UPDATE types SET c_double = -c_double, c_text = c_text || '!' WHERE id < 3");
    EXPECT_TRUE(converges(db, {"types"}));
}

TEST(Pglogical, UnchangedToastColumnsKeepTheirValue) {
    Databases db("it_toast",
                 "CREATE TABLE docs(id int PRIMARY KEY, big text, small int);"
                 "ALTER TABLE docs ALTER COLUMN big SET STORAGE EXTERNAL;");
    // 100 kB of incompressible text is stored out of line (TOASTed).
    db.source->exec(
        "INSERT INTO docs SELECT g, (SELECT string_agg(md5(random()::text), '') "
        "FROM generate_series(1, 3200)), 0 FROM generate_series(1, 5) g");
    Replicator r(db.args(), fresh_log("it_toast"));
    EXPECT_TRUE(converges(db, {"docs"}));
    db.source->exec("UPDATE docs SET small = small + 1");  // big is sent as 'unchanged'
    db.source->exec("UPDATE docs SET small = small + 1 WHERE id = 1");
    EXPECT_TRUE(converges(db, {"docs"}));
    EXPECT_EQ(db.target->count("docs WHERE big IS NULL"), 0);
}

// A primary-key change sends the new row with its unchanged TOASTed columns marked
// "unchanged": the row must move on the target with those values, and with the values of
// target-only columns, in every apply mode.
TEST(Pglogical, KeyChangeKeepsUnchangedAndTargetOnlyColumns) {
    for (const char* mode : {"folded", "strict", "full"}) {
        std::string name = std::string("it_keymove_") + mode;
        Databases db(name,
                     "CREATE TABLE docs(id int PRIMARY KEY, big text, small int);"
                     "ALTER TABLE docs ALTER COLUMN big SET STORAGE EXTERNAL;");
        if (std::string(mode) == "full") {
            db.source->exec("ALTER TABLE docs REPLICA IDENTITY FULL");
        }
        db.target->exec("ALTER TABLE docs ADD COLUMN note text DEFAULT 'target only'");
        db.source->exec(
            "INSERT INTO docs SELECT g, (SELECT string_agg(md5(random()::text), '') "
            "FROM generate_series(1, 3200)), 0 FROM generate_series(1, 5) g");
        std::vector<std::string> extra;
        if (std::string(mode) == "strict") {
            extra = {"--collapseMutations", "false"};
        }
        Replicator r(db.args(extra), fresh_log(name));
        ASSERT_TRUE(harness::wait_for([&] { return db.target->count("docs") == 5; }, 30s));
        db.target->exec("UPDATE docs SET note = 'kept ' || id");
        // Key changes that leave big unchanged: alone, chained, and mixed with other changes
        // to the same rows in one transaction.
        db.source->exec("UPDATE docs SET id = id + 100 WHERE id <= 2");
        db.source->exec(
            "BEGIN; UPDATE docs SET small = 7 WHERE id = 3; UPDATE docs SET id = 203 WHERE id = "
            "3; UPDATE docs SET id = 303 WHERE id = 203; INSERT INTO docs VALUES (3, 'new', 1);"
            "COMMIT");
        db.source->exec("UPDATE docs SET id = id + 1000 WHERE id IN (4, 5)");
        auto same = [&] {
            return db.source->value(
                       "SELECT string_agg(id || ':' || md5(big) || ':' || small, ',' "
                       "ORDER BY id) FROM docs") ==
                   db.target->value(
                       "SELECT string_agg(id || ':' || md5(big) || ':' || small, "
                       "',' ORDER BY id) FROM docs");
        };
        EXPECT_TRUE(harness::wait_for(same, 30s)) << mode << "\n" << r.log();
        EXPECT_EQ(db.target->count("docs WHERE big IS NULL"), 0) << mode;
        // Target-only values moved with their rows; the new row got the default.
        EXPECT_EQ(db.target->value("SELECT string_agg(id || '=' || note, ',' ORDER BY id) FROM "
                                   "docs"),
                  "3=target only,101=kept 1,102=kept 2,303=kept 3,1004=kept 4,1005=kept 5")
            << mode;
    }
}

TEST(Pglogical, TruncateIsAppliedInOrder) {
    Databases db("it_truncate", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    Replicator r(db.args(), fresh_log("it_truncate"));
    db.source->exec("INSERT INTO t SELECT g, 'a' FROM generate_series(1, 100) g");
    db.source->exec(
        "BEGIN; INSERT INTO t VALUES (1000, 'before'); TRUNCATE t; "
        "INSERT INTO t VALUES (1, 'after'); COMMIT");
    db.source->exec("INSERT INTO t VALUES (2, 'later')");
    EXPECT_TRUE(converges(db, {"t"}));
    EXPECT_EQ(db.target->count("t"), 2);
}

TEST(Pglogical, TruncateModeErrorStopsAndNamesTheTable) {
    Databases db("it_truncate_err", "CREATE TABLE t(id int PRIMARY KEY)");
    db.source->exec("INSERT INTO t VALUES (1)");
    db.source->exec("TRUNCATE t");
    auto [status, out] = harness::run_replicator(db.args({"--truncateMode", "error"}), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("truncated public.t"), std::string::npos) << out;
    // The insert before the truncate was committed; the truncate's transaction was not.
    EXPECT_EQ(db.target->count("t"), 1);
}

TEST(Pglogical, AddedColumnMidStream) {
    Databases db("it_addcol", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    Replicator r(db.args(), fresh_log("it_addcol"));
    db.source->exec("INSERT INTO t SELECT g, 'a' FROM generate_series(1, 50) g");
    EXPECT_TRUE(converges(db, {"t"}));
    db.target->exec("ALTER TABLE t ADD COLUMN extra int DEFAULT 7");
    db.source->exec("ALTER TABLE t ADD COLUMN extra int DEFAULT 7");
    db.source->exec("INSERT INTO t SELECT g, 'b', g FROM generate_series(51, 100) g");
    db.source->exec("UPDATE t SET extra = -1 WHERE id <= 10");
    EXPECT_TRUE(converges(db, {"t"}));
}

TEST(Pglogical, SchemaDriftNamesTableAndColumn) {
    Databases db("it_drift", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    db.source->exec("ALTER TABLE t ADD COLUMN surprise int");
    db.source->exec("INSERT INTO t VALUES (1, 'a', 2)");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 2) << out;  // found by the target preflight
    EXPECT_NE(out.find("schema drift"), std::string::npos) << out;
    EXPECT_NE(out.find("\"surprise\""), std::string::npos) << out;
    EXPECT_NE(out.find("public.t"), std::string::npos) << out;
}

TEST(Pglogical, MissingTargetTableIsNamed) {
    Databases db("it_notable", "CREATE TABLE t(id int PRIMARY KEY)");
    db.target->exec("DROP TABLE t");
    db.source->exec("INSERT INTO t VALUES (1)");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 2) << out;  // found by the target preflight
    EXPECT_NE(out.find("has no target table public.t"), std::string::npos) << out;
    // Skipping the preflight, the table's first change finds the same problem.
    std::tie(status, out) = harness::run_replicator(db.args({"--skipTargetCheck", "schema"}), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("has no target table public.t"), std::string::npos) << out;
}

TEST(Pglogical, MissingSlotAndPublicationGiveTheSqlToRun) {
    Databases db("it_noslot", "CREATE TABLE t(id int PRIMARY KEY)", /*create_slot=*/false);
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("CREATE PUBLICATION \"pub_it_noslot\" FOR ALL TABLES"), std::string::npos)
        << out;
    db.source->exec("CREATE PUBLICATION pub_it_noslot FOR ALL TABLES");
    std::tie(status, out) = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("pg_create_logical_replication_slot('slot_it_noslot', 'pgoutput')"),
              std::string::npos)
        << out;
    // Nothing was created behind the user's back.
    EXPECT_EQ(db.source->count("pg_replication_slots WHERE slot_name = 'slot_it_noslot'"), 0);
    // The explicit opt-in creates both and replicates.
    Replicator r(db.args({"--createSlotAndPublication"}), fresh_log("it_noslot"));
    ASSERT_TRUE(harness::wait_for(
        [&] {
            return db.source->count("pg_replication_slots WHERE slot_name = 'slot_it_noslot'") == 1;
        },
        30s));
    db.source->exec("INSERT INTO t VALUES (1), (2)");
    EXPECT_TRUE(converges(db, {"t"}));
}

// Every source schema's tables go to the one --targetSchema by bare name: two tables of one
// name would merge into one target table (a DELETE in one would remove the other's row).
TEST(Pglogical, SameTableNameInTwoSourceSchemasIsRefused) {
    Databases db(
        "it_dupname",
        "CREATE SCHEMA s1; CREATE SCHEMA s2;"
        "CREATE TABLE s1.dup(id int PRIMARY KEY); CREATE TABLE s2.dup(id int PRIMARY KEY)");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("tables of the same name in different schemas (s1.dup and s2.dup)"),
              std::string::npos)
        << out;
}

// A source table without a key can hold duplicate rows; the target's primary key would keep
// one of them, silently.
TEST(Pglogical, SourceTableWithoutAKeyIsRefused) {
    Databases db("it_nokey", "");
    db.source->exec(
        "CREATE TABLE events(id int, payload text); ALTER TABLE events REPLICA "
        "IDENTITY FULL; CREATE TABLE ok(id int PRIMARY KEY)");
    db.target->exec(
        "CREATE TABLE events(id int PRIMARY KEY, payload text); CREATE TABLE ok(id int PRIMARY "
        "KEY)");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("source table(s) public.events in publication"), std::string::npos) << out;
    EXPECT_NE(out.find("no primary key and no unique index"), std::string::npos) << out;
}

TEST(Pglogical, BadValueStopsWithoutMovingTheCheckpoint) {
    Databases db("it_badvalue", "CREATE TABLE t(id int PRIMARY KEY, code text)");
    db.target->exec("ALTER TABLE t ALTER COLUMN code TYPE varchar(3)");
    db.source->exec("INSERT INTO t VALUES (1, 'ok')");
    db.source->exec("INSERT INTO t VALUES (2, 'abc'), (42, 'too long'), (3, 'xyz')");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("SQLSTATE 22001"), std::string::npos) << out;
    EXPECT_NE(out.find("public.t"), std::string::npos) << out;
    EXPECT_NE(out.find("id=42"), std::string::npos) << out;
    // First transaction applied, the failing one not at all (atomic), nothing skipped.
    EXPECT_EQ(db.target->count("t"), 1);
    db.target->exec("ALTER TABLE t ALTER COLUMN code TYPE text");
    Replicator r(db.args(), fresh_log("it_badvalue"));
    EXPECT_TRUE(converges(db, {"t"}));
}

// The server's error details quote whole rows ("Failing row contains (...)") and key values;
// they reach logs, stderr and /_/diag without them unless asked for. The replicator's own
// message still names the failing row by its primary key.
TEST(Pglogical, RowContentsStayOutOfErrorsUnlessAskedFor) {
    Databases db("it_rowhide", "CREATE TABLE t(id int PRIMARY KEY, email text)");
    db.target->exec("ALTER TABLE t ADD CHECK (length(email) < 20)");
    db.source->exec("INSERT INTO t VALUES (7, 'alice.private.person@example.com')");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("SQLSTATE 23514"), std::string::npos) << out;
    EXPECT_NE(out.find("Failing row contains (<hidden>)"), std::string::npos) << out;
    EXPECT_NE(out.find("id=7"), std::string::npos) << out;
    EXPECT_EQ(out.find("alice.private"), std::string::npos) << out;

    std::tie(status, out) = harness::run_replicator(db.args({"--showRowContentsInErrors"}), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("alice.private.person@example.com"), std::string::npos) << out;
}

// A source database in SQL_ASCII declares no encoding: the walsender sends its bytes as
// stored. Start-up warns; UTF-8 text replicates; text that is not UTF-8 stops the stream at
// the source with an error that names the encoding but not the value's bytes.
TEST(Pglogical, SqlAsciiSourceWarnsAndStopsAtTextThatIsNotUtf8) {
    Databases db("it_sqlascii", "", false);
    db.source.reset();
    {
        harness::Sql admin(harness::source_port(), "postgres");
        admin.exec("DROP DATABASE " + db.name + " WITH (FORCE)");
        admin.exec("CREATE DATABASE " + db.name +
                   " ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    }
    db.source = std::make_unique<harness::Sql>(harness::source_port(), db.name);
    for (auto* side : {db.source.get(), db.target.get()}) {
        side->exec("CREATE TABLE t(id int PRIMARY KEY, v text)");
    }
    db.source->exec("CREATE PUBLICATION " + db.publication + " FOR ALL TABLES");
    db.source->exec("SELECT pg_create_logical_replication_slot('" + db.slot + "', 'pgoutput')");
    Replicator r(db.args(), fresh_log("it_sqlascii"));
    db.source->exec("INSERT INTO t VALUES (1, 'caf\u00e9')");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 1; }, 60s)) << r.log();
    EXPECT_EQ(db.target->value("SELECT v FROM t"), "café");
    EXPECT_NE(r.log().find("has encoding SQL_ASCII"), std::string::npos) << r.log();
    // 0xd6d0: gbk's "中", stored byte for byte.
    db.source->exec("INSERT INTO t VALUES (2, E'\\xd6\\xd0')");
    EXPECT_EQ(r.wait(60s), 1) << r.log();
    EXPECT_NE(r.log().find("invalid byte sequence for encoding \"UTF8\": <hidden> (SQLSTATE "
                           "22021)"),
              std::string::npos)
        << r.log();
    EXPECT_EQ(r.log().find("0xd6"), std::string::npos) << r.log();
    EXPECT_EQ(db.target->count("t"), 1);
}

}  // namespace
