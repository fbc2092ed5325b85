// End-to-end tests of `replicator mylogical` from a real MariaDB 10.11 into a real PostgreSQL
// target. Tables are compared row by row between source and target.

#include "harness.h"
#include "my_ledger.h"
#include "mysql_harness.h"
#include "parallel_workloads.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <random>
#include <signal.h>
#include <sys/stat.h>
#include <thread>

namespace {

using harness::fresh_log;

using harness::MyDatabases;
using harness::MySql;
using harness::Replicator;
using harness::Sql;
using namespace std::chrono_literals;

TEST(Mylogical, InsertsUpdatesDeletesKeyChangesAndMultiTableTransactions) {
    MyDatabases db("my_dml",
                   "CREATE TABLE a(id INT PRIMARY KEY, v VARCHAR(50), n INT);"
                   "CREATE TABLE b(k1 INT, k2 VARCHAR(20), note TEXT, PRIMARY KEY (k1, k2));",
                   "CREATE TABLE a(id int PRIMARY KEY, v varchar(50), n int);"
                   "CREATE TABLE b(k1 int, k2 varchar(20), note text, PRIMARY KEY (k1, k2));");
    Replicator r(db.args(), fresh_log("my_dml"));
    db.source->exec("INSERT INTO a SELECT seq, CONCAT('v', seq), seq FROM seq_1_to_500");
    db.source->exec("INSERT INTO b SELECT seq % 7, CONCAT('k', seq), NULL FROM seq_1_to_300");
    db.source->exec("UPDATE a SET v = 'updated', n = NULL WHERE id % 3 = 0");
    db.source->exec("DELETE FROM a WHERE id BETWEEN 100 AND 150");
    db.source->exec("UPDATE a SET id = id + 100000 WHERE id % 10 = 1");
    db.source->exec(
        "START TRANSACTION; INSERT INTO a VALUES (-1, 'x', 1); UPDATE b SET note = 'in tx' "
        "WHERE k1 = 2; DELETE FROM b WHERE k1 = 3; COMMIT");
    EXPECT_TRUE(db.converges({{"a", "id, v, n"}, {"b", "k1, k2, note"}}));
    EXPECT_EQ(db.target->count("a WHERE id % 10 = 1 AND id < 100000"), 0);
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
    std::string log = r.log();
    EXPECT_EQ(log.find("my-secret-pw"), std::string::npos);
    EXPECT_EQ(log.find("hunter2-secret"), std::string::npos);
    // The checkpoint is the source's GTID position, in the original's text format.
    EXPECT_EQ(
        db.target->value("SELECT convert_from(value, 'UTF8') FROM _replicator.memo WHERE key = "
                         "'mysql-wal-offset-my_dml.public'"),
        db.source->value("SELECT @@gtid_binlog_pos"));
}

// A checkpoint row written in the documented format (docs/staging.md §3.2) by hand, as an
// earlier version left it: what it names is not applied again, the rest is.
TEST(Mylogical, ResumesFromAMemoRowInTheDocumentedFormat) {
    MyDatabases db("my_memo", "CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(20))",
                   "CREATE TABLE t(id int PRIMARY KEY, v varchar(20));"
                   "CREATE SCHEMA _replicator;"
                   "CREATE TABLE _replicator.memo (key TEXT PRIMARY KEY, value BYTEA NOT NULL)");
    db.source->exec("INSERT INTO t SELECT seq, 'source' FROM seq_1_to_50");
    std::string after_first = db.source->value("SELECT @@gtid_binlog_pos").value();
    db.source->exec("INSERT INTO t SELECT seq, 'source' FROM seq_51_to_100");
    // The target has the first transaction already (marked), and the memo says so.
    db.target->exec("INSERT INTO t SELECT g, 'target copy' FROM generate_series(1, 50) g");
    db.target->exec(
        "INSERT INTO _replicator.memo VALUES ('mysql-wal-offset-my_memo.public', convert_to('" +
        after_first + "', 'UTF8'))");
    Replicator r(db.args(), fresh_log("my_memo"));  // its --defaultGTIDSet is older: ignored
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 100; }, 60s)) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
    EXPECT_NE(r.log().find("resuming from GTID " + after_first + " (saved in"), std::string::npos)
        << r.log();
    EXPECT_EQ(db.target->count("t WHERE v = 'target copy'"), 50);
    EXPECT_EQ(db.target->count("t WHERE v = 'source' AND id > 50"), 50);
}

// A binlog has no LSN: logs, /_/diag and metrics name mylogical's positions as GTID sets.
TEST(Mylogical, PositionsAreGtidSetsInLogsDiagAndMetrics) {
    const int port = 26511;
    MyDatabases db("my_positions", "CREATE TABLE t(id INT PRIMARY KEY)",
                   "CREATE TABLE t(id int PRIMARY KEY)");
    Replicator r(db.args({"--metricsAddr", "127.0.0.1:" + std::to_string(port), "-v"}),
                 fresh_log("my_positions"));
    db.source->exec("INSERT INTO t SELECT seq FROM seq_1_to_20");
    db.source->exec("DELETE FROM t WHERE id > 10");
    ASSERT_TRUE(db.converges({{"t", "id"}})) << r.log();
    std::string executed = db.source->value("SELECT @@gtid_binlog_pos").value();
    nlohmann::json positions;
    EXPECT_TRUE(harness::wait_for(
        [&] {
            auto [code, text] = harness::http_get(port, "/_/diag");
            positions = code == 200 ? nlohmann::json::parse(text)["positions"] : nlohmann::json();
            return positions.value("confirmed", "") == "GTID set " + executed;
        },
        30s))
        << positions.dump();
    EXPECT_EQ(positions.value("confirmed_gtid_set", ""), executed);
    EXPECT_EQ(positions.dump().find("lsn"), std::string::npos) << positions.dump();
    std::string varz;
    EXPECT_TRUE(harness::wait_for(
        [&] {
            varz = harness::http_get(port, "/_/varz").second;
            return varz.find("\nmylogical_source_backlog_transactions 0\n") != std::string::npos;
        },
        30s))
        << varz;
    EXPECT_EQ(varz.find("pglogical_"), std::string::npos) << varz;
    EXPECT_NE(varz.find("\nmylogical_confirmed_transactions "), std::string::npos) << varz;
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
    std::string log = r.log();
    EXPECT_EQ(log.find("LSN"), std::string::npos) << log;
    EXPECT_NE(log.find("progressed to GTID set"), std::string::npos) << log;
    EXPECT_NE(log.find("stopped; everything up to GTID set " + executed), std::string::npos) << log;
}

// A session writing with binlog_format STATEMENT puts row changes in the binary log as SQL
// text. They cannot be applied from there and must not be skipped: replication stops,
// naming the transaction, with the checkpoint right before it.
TEST(Mylogical, RowChangesLoggedAsStatementsStopReplication) {
    MyDatabases db("my_stmt", "CREATE TABLE t(id INT PRIMARY KEY, v INT)",
                   "CREATE TABLE t(id int PRIMARY KEY, v int)");
    Replicator r(db.args(), fresh_log("my_stmt"));
    db.source->exec("INSERT INTO t VALUES (1, 1)");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 1; }, 30s)) << r.log();
    std::string before = db.source->value("SELECT @@gtid_binlog_pos").value();
    db.source->exec(
        "SET SESSION binlog_format = 'STATEMENT'; /* app */ INSERT INTO t VALUES (2, 2);"
        "SET SESSION binlog_format = 'ROW'");
    std::string statement_gtid = db.source->value("SELECT @@gtid_binlog_pos").value();
    db.source->exec("INSERT INTO t VALUES (3, 3)");
    EXPECT_EQ(r.wait(30s), 1) << r.log();
    std::string log = r.log();
    EXPECT_NE(log.find("logged row changes as an SQL statement"), std::string::npos) << log;
    EXPECT_NE(log.find("\"INSERT INTO T ...\""), std::string::npos) << log;
    EXPECT_NE(log.find("transaction " + statement_gtid), std::string::npos) << log;
    EXPECT_EQ(log.find("VALUES (2, 2)"), std::string::npos) << "row values in the log";
    EXPECT_EQ(db.target->count("t"), 1);
    EXPECT_EQ(
        db.target->value("SELECT convert_from(value, 'UTF8') FROM _replicator.memo WHERE key = "
                         "'mysql-wal-offset-my_stmt.public'"),
        before);
}

// A MySQL table without a primary key can hold duplicate rows that the target's key would
// merge: refused at start-up by the target preflight, and at the first row when that is
// skipped, naming the table.
TEST(Mylogical, SourceTableWithoutAPrimaryKeyIsRefused) {
    MyDatabases db("my_nokey", "CREATE TABLE log(id INT, msg VARCHAR(20))",
                   "CREATE TABLE log(id int PRIMARY KEY, msg varchar(20))");
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("source table my_nokey.log has no key"), std::string::npos) << out;
    Replicator r(db.args({"--skipTargetCheck", "schema"}), fresh_log("my_nokey"));
    db.source->exec("INSERT INTO log VALUES (1, 'a'), (1, 'b')");
    EXPECT_EQ(r.wait(30s), 1) << r.log();
    EXPECT_NE(r.log().find("source table my_nokey.log has no key"), std::string::npos) << r.log();
    EXPECT_EQ(db.target->count("log"), 0);
}

TEST(Mylogical, EveryTypeArrivesExactly) {
    MyDatabases db("my_types",
                   "CREATE TABLE t(id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si "
                   "SMALLINT, su SMALLINT UNSIGNED,"
                   " mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu "
                   "BIGINT UNSIGNED,"
                   " de DECIMAL(30,10), fl FLOAT, db DOUBLE, bt BIT(10), yr YEAR, dt DATE, tm "
                   "TIME(6), dtm DATETIME(6),"
                   " ts TIMESTAMP(3) NULL, ch CHAR(5), vc VARCHAR(30), tx TEXT, l1 VARCHAR(20) "
                   "CHARACTER SET latin1,"
                   " bn BINARY(4), vb VARBINARY(10), bl BLOB, en ENUM('small','medium','large'), "
                   "st SET('a','b','c'),"
                   " js JSON)",
                   "CREATE TABLE t(id int PRIMARY KEY, ti int2, tu int2, si int2, su int4, mi "
                   "int4, mu int4, i int4,"
                   " iu int8, bi int8, bu numeric(20), de numeric(30,10), fl float4, db float8, bt "
                   "varbit(10), yr int2,"
                   " dt date, tm interval, dtm timestamp, ts timestamptz, ch varchar(5), vc "
                   "varchar(30), tx text,"
                   " l1 varchar(20), bn bytea, vb bytea, bl bytea, en text, st text, js jsonb)");
    db.source->exec("SET time_zone = '+02:00'");
    db.source->exec(
        "INSERT INTO t VALUES"
        " (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,"
        "  -9223372036854775808, 18446744073709551615, -12345678901234567890.0123456789, 3.5, "
        "-2.25e-300,"
        "  b'1010101010', 2155, '2024-02-29', '-838:59:59.000000', '9999-12-31 23:59:59.999999',"
        "  '2038-01-19 05:14:07.999', 'ab', 'héllo wörld 中文 😀', 'long\\ttext\\nwith\\\\escapes',"
        "  'café €', x'00ff10de', x'', x'deadbeef00', 'large', 'a,c', '{\"k\": [1, 2.5, null, "
        "true], \"s\": \"x\"}'),"
        " (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 1901, '1000-01-01', '123:45:06.5', "
        "'1000-01-01 00:00:00',"
        "  '1970-01-01 02:00:01', '', '', '', '', x'00000000', x'00', x'', 'small', '', '[]'),"
        " (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL,"
        "  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
    Replicator r(db.args(), fresh_log("my_types"));
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 3; }, 60s)) << r.log();
    auto row = [&](int id) {
        auto rows = db.target->rows(
            "SELECT ti, tu, si, su, mi, mu, i, iu, bi, bu, de, fl, db, bt, yr, dt, tm, dtm,"
            " ts AT TIME ZONE 'UTC', ch, vc, tx, l1, encode(bn, 'hex'), encode(vb, 'hex'),"
            " encode(bl, 'hex'), en, st, js::text FROM t WHERE id = " +
            std::to_string(id));
        std::string out;
        for (const auto& v : rows.at(0)) {
            out += (v ? *v : "NULL") + "|";
        }
        return out;
    };
    EXPECT_EQ(
        row(1),
        "-128|255|-32768|65535|-8388608|16777215|-2147483648|4294967295|-9223372036854775808|"
        "18446744073709551615|-12345678901234567890.0123456789|3.5|-2.25e-300|1010101010|2155|"
        "2024-02-29|-838:59:59|9999-12-31 23:59:59.999999|2038-01-19 03:14:07.999|ab|héllo wörld "
        "中文 😀|long\ttext\nwith\\escapes|café €|00ff10de||deadbeef00|large|a,c|"
        "{\"k\": [1, 2.5, null, true], \"s\": \"x\"}|");
    EXPECT_EQ(row(2),
              "0|0|0|0|0|0|0|0|0|0|0.0000000000|0|0|0000000000|1901|1000-01-01|123:45:06.5|"
              "1000-01-01 00:00:00|1970-01-01 00:00:01|||||00000000|00||small||[]|");
    EXPECT_EQ(row(3), std::string(29 * 5, ' ').replace(0, 29 * 5, [] {
        std::string s;
        for (int i = 0; i < 29; ++i) {
            s += "NULL|";
        }
        return s;
    }()));
}

TEST(Mylogical, DdlMidStreamAndTruncate) {
    MyDatabases db("my_ddl", "CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(20))",
                   "CREATE TABLE t(id int PRIMARY KEY, v varchar(20))");
    Replicator r(db.args(), fresh_log("my_ddl"));
    db.source->exec("INSERT INTO t SELECT seq, 'a' FROM seq_1_to_50");
    ASSERT_TRUE(db.converges({{"t", "id, v"}}));
    db.target->exec("ALTER TABLE t ADD COLUMN extra int");
    db.source->exec("ALTER TABLE t ADD COLUMN extra INT");
    db.source->exec("INSERT INTO t SELECT seq, 'b', seq FROM seq_51_to_100");
    db.source->exec("UPDATE t SET extra = -1 WHERE id <= 10");
    EXPECT_TRUE(db.converges({{"t", "id, v, extra"}}));
    db.source->exec("TRUNCATE TABLE t");
    db.source->exec("INSERT INTO t VALUES (1, 'after', 1)");
    EXPECT_TRUE(db.converges({{"t", "id, v, extra"}}));
}

// With --fetchMetadata, collations come by name (MariaDB 10.10+ lists its uca1400 ones
// without an id in information_schema.COLLATIONS; they were taken for binary), and ENUM
// labels from information_schema are already UTF-8 (they were converted again from latin1).
// NO_LOG (MariaDB's default) logs no collations at all; MINIMAL logs those of text columns.
TEST(Mylogical, FetchMetadataWhenTheBinlogLacksColumnNames) {
    MyDatabases db("my_fetchmeta",
                   "CREATE TABLE t(id INT UNSIGNED PRIMARY KEY, e ENUM('x','y'), v VARCHAR(10), "
                   "u VARCHAR(10) COLLATE utf8mb4_uca1400_ai_ci, g VARCHAR(10) CHARACTER SET gbk, "
                   "l ENUM('café', 'x') CHARACTER SET latin1)",
                   "CREATE TABLE t(id int8 PRIMARY KEY, e text, v varchar(10), u text, g text, "
                   "l text)");
    MySql admin;
    admin.exec("SET GLOBAL binlog_row_metadata = 'NO_LOG'");
    struct Restore {
        ~Restore() { MySql().exec("SET GLOBAL binlog_row_metadata = 'FULL'"); }
    } restore;
    auto [status, out] = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("--fetchMetadata"), std::string::npos) << out;
    MySql writer("my_fetchmeta");  // a new session logs with the new setting
    writer.exec("SET NAMES utf8mb4");
    writer.exec(
        "INSERT INTO t VALUES (4000000000, 'y', 'a', 'Ünïcode', '中文', 'café'), (2, NULL, 'b', "
        "NULL, NULL, 'x')");
    Replicator r(db.args({"--fetchMetadata"}), fresh_log("my_fetchmeta"));
    db.source->exec("SET NAMES utf8mb4");
    EXPECT_TRUE(db.converges({{"t", "id, e, v, u, g, l"}})) << r.log();
    EXPECT_EQ(db.target->value("SELECT u || g || l FROM t WHERE id = 4000000000"),
              "Ünïcode中文café");
}

TEST(Mylogical, TlsVerifyFull) {
    MyDatabases db("my_tls", "CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(10))",
                   "CREATE TABLE t(id int PRIMARY KEY, v varchar(10))");
    std::string ca = harness::servers_base() + "-mariadb/tls/server.crt";
    auto args = db.args();
    args[2] += "?sslmode=verify-full&sslrootcert=" + ca;
    Replicator r(args, fresh_log("my_tls"));
    db.source->exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    EXPECT_TRUE(db.converges({{"t", "id, v"}})) << r.log();
    // Every session of the replication user runs over TLS.
    MySql admin;
    auto plain =
        admin.value("SELECT COUNT(*) FROM information_schema.PROCESSLIST p WHERE p.USER = 'repl'");
    EXPECT_NE(plain, "0");
    auto ssl_sessions = admin.rows(
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME = 'SSL_ACCEPTS'");
    ASSERT_FALSE(ssl_sessions.empty());
    EXPECT_GT(std::stoll(ssl_sessions[0][0].value_or("0")), 0);
    // A wrong CA is refused.
    args[2] = args[2].substr(0, args[2].find('?')) +
              "?sslmode=verify-full&sslrootcert=" + harness::servers_base() + "/tls/server.crt";
    auto [status, out] = harness::run_replicator(args, 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_EQ(out.find("my-secret-pw"), std::string::npos) << out;
}

TEST(Mylogical, ZeroDatesFollowThePolicy) {
    MyDatabases db("my_zero", "CREATE TABLE t(id INT PRIMARY KEY, d DATE, dt DATETIME)",
                   "CREATE TABLE t(id int PRIMARY KEY, d date, dt timestamp)");
    db.source->exec("SET SESSION sql_mode = ''");
    db.source->exec(
        "INSERT INTO t VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '2024-01-02', NULL)");
    auto [status, out] = harness::run_replicator(db.args({"--zeroDates", "error"}), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("my_zero.t"), std::string::npos) << out;
    EXPECT_NE(out.find("column d"), std::string::npos) << out;
    EXPECT_EQ(db.target->count("t"), 0) << "nothing of the failing transaction is applied";
    Replicator r(db.args(), fresh_log("my_zero"));  // default: zero dates become NULL
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 2; }, 60s)) << r.log();
    EXPECT_EQ(
        db.target->value("SELECT coalesce(d::text, 'NULL') || ' ' || coalesce(dt::text, 'NULL') "
                         "FROM t WHERE id = 1"),
        "NULL NULL");
}

TEST(Mylogical, MissingReplicationPrivilegesAreNamed) {
    MyDatabases db("my_noperm", "CREATE TABLE t(id INT PRIMARY KEY)",
                   "CREATE TABLE t(id int PRIMARY KEY)");
    MySql admin;
    admin.exec(
        "DROP USER IF EXISTS reader@'%'; CREATE USER reader@'%' IDENTIFIED BY 'pw';"
        "GRANT SELECT ON my_noperm.* TO reader@'%'");
    auto args = db.args();
    args[2] =
        "mysql://reader:pw@127.0.0.1:" + std::to_string(harness::mariadb_port()) + "/my_noperm";
    auto [status, out] = harness::run_replicator(args, 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("REPLICATION SLAVE"), std::string::npos) << out;
}

TEST(Mylogical, UnknownAndPurgedGtidsAreClearErrors) {
    MyDatabases db("my_gtid", "CREATE TABLE t(id INT PRIMARY KEY)",
                   "CREATE TABLE t(id int PRIMARY KEY)");
    auto args = db.args();
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--defaultGTIDSet") {
            args[i + 1] = "0-1-999999999";
        }
    }
    auto [status, out] = harness::run_replicator(args, 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("1236"), std::string::npos) << out;
    EXPECT_NE(out.find("--defaultGTIDSet"), std::string::npos) << out;
    // Purge the binary logs that hold the start position.
    db.source->exec("INSERT INTO t VALUES (1)");
    MySql admin;
    // MariaDB keeps binary logs that its binlog checkpoint still needs; flush until the files
    // holding the start position can go.
    bool purged = harness::wait_for(
        [&] {
            admin.exec("FLUSH BINARY LOGS");
            auto logs = admin.rows("SHOW BINARY LOGS");
            admin.exec("PURGE BINARY LOGS TO '" + *logs.back()[0] + "'");
            return admin.rows("SHOW BINARY LOGS").size() == 1;
        },
        20s);
    ASSERT_TRUE(purged) << "could not purge the binary logs";
    std::tie(status, out) = harness::run_replicator(db.args(), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("--defaultGTIDSet"), std::string::npos) << out;
    EXPECT_NE(out.find("purged"), std::string::npos) << out;
    EXPECT_NE(out.find("--acceptDataLoss"), std::string::npos) << out;
    // Accepting the loss starts after the purged transactions: row 1 is lost, row 2 arrives.
    Replicator r(db.args({"--acceptDataLoss"}), fresh_log("my_gtid"));
    db.source->exec("INSERT INTO t VALUES (2)");
    EXPECT_TRUE(harness::wait_for([&] { return db.target->count("t WHERE id = 2") == 1; }, 30s))
        << r.log();
    EXPECT_EQ(db.target->count("t WHERE id = 1"), 0);
    EXPECT_NE(r.log().find("because of --acceptDataLoss"), std::string::npos) << r.log();
}

// Unique indexes are tracked per value from MariaDB too, whose binlog rows are whole: an
// update or delete says which value it frees, so only changes of one value wait for each
// other, updates and deletes included: with no run of inserts at the end (as the PostgreSQL
// test has), the connections still write at once (Parallel.UniqueIndexesAreTrackedPerValue
// has the PostgreSQL source and its notes).
TEST(Mylogical, UniqueIndexesAreTrackedPerValue) {
    MyDatabases db("my_par_unique",
                   "CREATE TABLE users(id INT PRIMARY KEY, email VARCHAR(40) UNIQUE, n INT);",
                   "CREATE TABLE users(id int PRIMARY KEY, email varchar(40) UNIQUE, n int);");
    harness::slow_and_noted(*db.target, "users");
    std::mt19937 rng(13);
    harness::UniqueWorkload users{"users"};
    db.source->exec("START TRANSACTION;" + users.seed(1000) + "COMMIT");
    std::string work;
    for (int t = 0; t < 1200; ++t) {
        work += "START TRANSACTION;" + users.step(rng, t) + "COMMIT;";
    }
    Replicator r(db.args({"--parallelism", "4", "--fixedParallelism", "--flushSize", "20",
                          "--timestampLimit", "20"}),
                 fresh_log(db.name));
    db.source->exec(work);
    EXPECT_TRUE(db.converges({{"users", "id, email, n"}}, 120s)) << r.log();
    EXPECT_GT(harness::overlapping_writes(*db.target), 0)
        << "the connections never wrote users at the same time";
    EXPECT_EQ(r.log().find("SQLSTATE 23505"), std::string::npos) << r.log();
    EXPECT_TRUE(r.running()) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

TEST(Mylogical, TwentyKillNineDuringWorkload) {
    harness::MyLedgerRun run("my_kill");
    std::string log = fresh_log("my_kill");
    run.start();
    std::mt19937 rng(5);
    {
        // Default flags; the target connections are also cut at random moments throughout.
        harness::TargetCutter cutter("my_kill");
        int kills = harness::kill_count(20);
        for (int i = 0; i < kills; ++i) {
            Replicator r(run.db().args(), log);
            std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 900));
            ASSERT_TRUE(r.running()) << r.log();
            r.signal(SIGKILL);
            r.wait(10s);
        }
        EXPECT_GE(cutter.cuts(), kills / 2);
    }
    Replicator r(run.db().args(), log);
    std::this_thread::sleep_for(500ms);
    run.finish(r);
}

// kill -9 at random moments while a userscript runs on every row: a schema-level handler
// passes each row on (audit's through a copy), onWrite writes audit's rows itself under a
// savepoint, and table-level row handlers pass accounts' rows. Rows a script handles are
// checkpointed with their GTID like any other: the ledger stays a whole prefix, nothing is
// applied twice, and the tables end equal to the source's (userscript_test.cc routes rows on
// PostgreSQL the same way).
TEST(Mylogical, KillNineDuringAUserscriptLosesAndRepeatsNothing) {
    harness::MyLedgerRun run("my_kill_us");
    std::string script = harness::write_script("my_kill_us", "pass.ts", R"(
import * as api from "replicator@v2";
const pass = (row: any, meta: any) => (meta.table === "audit" ? { audit: [{ ...row }] } : row);
api.configureTargetSchema("my_kill_us.public", { onRowUpsert: pass, onRowDelete: pass });
)" + std::string(harness::kLedgerApplySideHandlers));
    auto args = run.db().args({"--userscript", script});
    std::string log = fresh_log("my_kill_us");
    run.start();
    harness::kill_nine_repeatedly(args, log, harness::kill_count(8), 7);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    Replicator r(args, log);
    std::this_thread::sleep_for(500ms);
    run.finish(r);
}

// The same with a script that routes and fans out: each events row goes to events_even or
// events_odd by its id and, as a copy, to events_all (a view on the source to compare with;
// on the target, events is the view over the two halves). A kill -9 between the rows one
// source row became must neither lose nor repeat any of them: they are checkpointed with
// their GTID. Deletes are routed the same way, by their key.
TEST(Mylogical, KillNineDuringARoutingScriptLosesAndRepeatsNothing) {
    harness::MyLedgerRun run(
        "my_kill_route", "CREATE VIEW events_all AS SELECT * FROM events;",
        "DROP TABLE events;"
        "CREATE TABLE events_even(id bigint PRIMARY KEY, account int, body varchar(300));"
        "CREATE TABLE events_odd(id bigint PRIMARY KEY, account int, body varchar(300));"
        "CREATE TABLE events_all(id bigint PRIMARY KEY, account int, body varchar(300));"
        "CREATE VIEW events AS SELECT * FROM events_even UNION ALL SELECT * FROM events_odd;",
        {{"events_all", "id, account, body"}});
    std::string script = harness::write_script("my_kill_route", "route.ts", R"(
import * as api from "replicator@v2";
const route = (row: any, meta: any) => {
  if (meta.table === "audit") return { audit: [{ ...row }] };
  if (meta.table !== "events") return row;
  const half = BigInt(row.id) % 2n === 0n ? "events_even" : "events_odd";
  return { [half]: [row], events_all: [{ ...row }] };
};
api.configureTargetSchema("my_kill_route.public", { onRowUpsert: route, onRowDelete: route });
)" + std::string(harness::kLedgerApplySideHandlers));
    auto args = run.db().args({"--userscript", script});
    std::string log = fresh_log("my_kill_route");
    run.start();
    harness::kill_nine_repeatedly(args, log, harness::kill_count(8), 9);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    Replicator r(args, log);
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(run.db().target->count("events_even WHERE id % 2 = 1"), 0);
    run.finish(r);
}

// The password off the command line: from MYSQL_PWD, then from a file named in the URL.
// Neither appears in the log or in /_/diag.
TEST(Mylogical, PasswordFromTheEnvironmentOrAFile) {
    MyDatabases db("my_pwsrc", "CREATE TABLE t(id INT PRIMARY KEY)",
                   "CREATE TABLE t(id int PRIMARY KEY)");
    auto args = db.args();
    const std::string url =
        "mysql://repl@127.0.0.1:" + std::to_string(harness::mariadb_port()) + "/my_pwsrc";
    args[2] = url;
    setenv("MYSQL_PWD", "my-secret-pw", 1);
    {
        Replicator r(args, fresh_log("my_pwsrc"));
        db.source->exec("INSERT INTO t SELECT seq FROM seq_1_to_10");
        EXPECT_TRUE(db.converges({{"t", "id"}})) << r.log();
        r.signal(SIGTERM);
        EXPECT_EQ(r.wait(30s), 0) << r.log();
        EXPECT_EQ(r.log().find("my-secret-pw"), std::string::npos);
    }
    setenv("MYSQL_PWD", "wrong", 1);  // the file wins
    std::string file = harness::servers_base() + "/my_pwsrc.pw";
    {
        std::ofstream f(file);
        f << "my-secret-pw\n";
    }
    chmod(file.c_str(), 0600);
    args[2] = url + "?passwordFile=" + file;
    {
        Replicator r(args, fresh_log("my_pwsrc"));
        db.source->exec("INSERT INTO t SELECT seq FROM seq_11_to_20");
        EXPECT_TRUE(db.converges({{"t", "id"}})) << r.log();
        r.signal(SIGTERM);
        EXPECT_EQ(r.wait(30s), 0) << r.log();
    }
    // Without either, the server refuses: a clear fatal error, exit 1.
    unsetenv("MYSQL_PWD");
    args[2] = url;
    auto [status, out] = harness::run_replicator(args, 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("Access denied"), std::string::npos) << out;
}

}  // namespace
