// Connection-level behaviour of `replicator pglogical`: TLS, a quiet publication, a lost
// source connection, staging in another database, target-only columns, log formats.

#include "harness.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <signal.h>
#include <thread>

namespace {

using harness::converges;
using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

TEST(Connections, TlsVerifyFullOnSourceAndTarget) {
    Databases db("it_tls", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    std::string tls =
        "sslmode=verify-full&sslrootcert=" + harness::servers_base() + "/tls/server.crt";
    auto args = db.args();
    args[2] += "?" + tls;                                        // --sourceConn
    args[4] = args[4].substr(0, args[4].find('?')) + "?" + tls;  // --targetConn
    Replicator r(args, fresh_log("it_tls"));
    db.source->exec("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g");
    EXPECT_TRUE(converges(db, {"t"}));
    // The walsender serving the replicator runs over TLS, and so does its target session.
    EXPECT_EQ(db.source->value("SELECT bool_and(s.ssl)::text FROM pg_stat_ssl s JOIN "
                               "pg_stat_replication r ON r.pid = s.pid"),
              "true");
    EXPECT_EQ(db.target->value("SELECT bool_and(s.ssl)::text FROM pg_stat_ssl s JOIN "
                               "pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = "
                               "'replicator'"),
              "true");
    // A wrong root certificate is refused, with the reason and without the password.
    args[4] =
        args[4].substr(0, args[4].find('?')) + "?sslmode=verify-full&sslrootcert=/nonexistent.crt";
    auto [status, out] = harness::run_replicator(args, 60s);
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("/nonexistent.crt"), std::string::npos) << out;
    EXPECT_EQ(out.find("hunter2-secret"), std::string::npos) << out;
}

// Over TLS the replicator reads ahead of the current record (ReplicationConn::start), so bytes
// can sit in OpenSSL where select() cannot see them. A backlog of many small transactions, row
// changes larger than one TLS record, and a stream the source cuts must all arrive intact.
TEST(Connections, TlsCatchUpWithLargeRowsAndACutStream) {
    Databases db("it_tls_bulk", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    std::string tls =
        "sslmode=verify-full&sslrootcert=" + harness::servers_base() + "/tls/server.crt";
    auto args = db.args();
    args[2] += "?" + tls;
    args[4] = args[4].substr(0, args[4].find('?')) + "?" + tls;
    db.source->exec(
        "INSERT INTO t SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g");
    db.source->exec(
        "DO $$ BEGIN FOR i IN 1..2000 LOOP UPDATE t SET v = v || 'u' WHERE id = i * 10; COMMIT; "
        "END LOOP; END $$");
    // About 160 kB per value: each of these row changes spans about ten TLS records.
    db.source->exec(
        "INSERT INTO t SELECT g, string_agg(md5(g::text || k::text), '') "
        "FROM generate_series(20001, 20020) g, generate_series(1, 5000) k GROUP BY g");
    Replicator r(args, fresh_log("it_tls_bulk"));
    EXPECT_TRUE(converges(db, {"t"}));
    db.source->exec(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE slot_name = 'slot_it_tls_bulk'");
    for (int i = 1; i <= 50; ++i) {
        db.source->exec("UPDATE t SET v = 'after " + std::to_string(i) +
                        "' WHERE id = " + std::to_string(i * 7));
    }
    EXPECT_TRUE(converges(db, {"t"}));
    EXPECT_EQ(db.target->value("SELECT count(*) FROM t WHERE v LIKE 'after %'"), "50");
}

TEST(Connections, QuietPublicationStillLetsTheSlotAdvance) {
    Databases db("it_quiet",
                 "CREATE TABLE published(id int PRIMARY KEY);"
                 "CREATE TABLE other(id int PRIMARY KEY, v text);");
    // Replicate only `published`; all the WAL comes from `other`.
    db.source->exec("SELECT pg_drop_replication_slot('slot_it_quiet')");
    db.source->exec("DROP PUBLICATION pub_it_quiet");
    db.source->exec("CREATE PUBLICATION pub_it_quiet FOR TABLE published");
    db.source->exec("SELECT pg_create_logical_replication_slot('slot_it_quiet', 'pgoutput')");
    Replicator r(db.args(), fresh_log("it_quiet"));
    auto start = db.source->value(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
        "WHERE slot_name = 'slot_it_quiet'");
    for (int i = 0; i < 20; ++i) {
        db.source->exec("INSERT INTO other SELECT g, repeat('w', 500) FROM generate_series(" +
                        std::to_string(i * 1000) + ", " + std::to_string(i * 1000 + 999) + ") g");
    }
    auto end = db.source->value("SELECT pg_current_wal_lsn()::text");
    // Keepalives carry the server's WAL end; once reported, the slot moves past the
    // unrelated WAL although no replicated transaction ended there.
    EXPECT_TRUE(harness::wait_for(
        [&] {
            return db.source->value("SELECT (confirmed_flush_lsn >= '" + *end +
                                    "'::pg_lsn)::text FROM pg_replication_slots WHERE "
                                    "slot_name = 'slot_it_quiet'") == "true";
        },
        60s))
        << "slot stuck at " << start.value_or("?") << ", WAL at " << *end;
}

TEST(Connections, LostSourceConnectionReconnectsAndResumes) {
    Databases db("it_reconnect", "CREATE TABLE t(id int PRIMARY KEY, v int)");
    Replicator r(db.args(), fresh_log("it_reconnect"));
    db.source->exec("INSERT INTO t SELECT g, 0 FROM generate_series(1, 1000) g");
    EXPECT_TRUE(converges(db, {"t"}));
    for (int i = 1; i <= 3; ++i) {
        db.source->exec(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
            "WHERE slot_name = 'slot_it_reconnect' AND active_pid IS NOT NULL");
        db.source->exec("UPDATE t SET v = v + 1 WHERE id % " + std::to_string(i + 1) + " = 0");
    }
    EXPECT_TRUE(converges(db, {"t"}));
    EXPECT_TRUE(r.running());
    // Each loss was a restart inside the process, from the last applied position.
    EXPECT_NE(r.log().find("failed, retrying in"), std::string::npos) << r.log();
}

// The target connection outlives a pipeline restart, and so do the statements prepared on it.
// After the restart another table of the same shape is written first: its rows must not go
// through the statement the connection prepared for the first table.
TEST(Connections, StatementsPreparedBeforeARestartKeepTheirTable) {
    Databases db("it_restart_stmts",
                 "CREATE TABLE t(id int PRIMARY KEY, v int);"
                 "CREATE TABLE u(id int PRIMARY KEY, v int);");
    Replicator r(db.args({"--parallelism", "1"}), fresh_log("it_restart_stmts"));
    db.source->exec("INSERT INTO t SELECT g, 1 FROM generate_series(1, 100) g");
    EXPECT_TRUE(converges(db, {"t", "u"}));
    db.source->exec(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE slot_name = 'slot_it_restart_stmts' AND active_pid IS NOT NULL");
    EXPECT_TRUE(harness::wait_for(
        [&] { return r.log().find("failed, retrying in") != std::string::npos; }, 30s));
    db.source->exec("INSERT INTO u SELECT g, 2 FROM generate_series(1, 100) g");
    db.source->exec("UPDATE t SET v = 3 WHERE id <= 10");
    EXPECT_TRUE(converges(db, {"t", "u"})) << r.log();
}

TEST(Connections, StagingInAnotherDatabase) {
    Databases db("it_staging", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    harness::Sql admin(harness::target_port(), "postgres");
    admin.exec("DROP DATABASE IF EXISTS it_staging_meta WITH (FORCE)");
    admin.exec("CREATE DATABASE it_staging_meta");
    std::string staging =
        "postgresql://postgres@127.0.0.1:" + std::to_string(harness::target_port()) +
        "/it_staging_meta";
    auto args = db.args({"--stagingConn", staging, "--stagingSchema", "it_staging_meta.cdc"});
    {
        Replicator r(args, fresh_log("it_staging"));
        db.source->exec("INSERT INTO t SELECT g, 'a' FROM generate_series(1, 100) g");
        EXPECT_TRUE(converges(db, {"t"}));
        r.signal(SIGINT);
        EXPECT_EQ(r.wait(30s), 0) << r.log();
    }
    harness::Sql meta(harness::target_port(), "it_staging_meta");
    auto memo = meta.value(
        "SELECT convert_from(value, 'UTF8') FROM cdc.memo WHERE key = "
        "'pglogical-wal-offset-it_staging.public'");
    ASSERT_TRUE(memo.has_value());
    EXPECT_FALSE(db.target->value("SELECT to_regclass('_replicator.memo')::text").has_value());
    db.source->exec("UPDATE t SET v = 'b' WHERE id <= 50");
    Replicator r(args, fresh_log("it_staging2"));
    EXPECT_TRUE(converges(db, {"t"}));
    EXPECT_NE(r.log().find("resuming from LSN " + *memo), std::string::npos) << r.log();
}

TEST(Connections, TargetOnlyAndGeneratedColumns) {
    Databases db("it_targetcols", "");
    db.source->exec("CREATE TABLE t(id int PRIMARY KEY, price int, total int)");
    db.target->exec(
        "CREATE TABLE t(id int PRIMARY KEY, price int, total int GENERATED ALWAYS AS "
        "(price * 2) STORED, note text DEFAULT 'from-default', "
        "seq int GENERATED ALWAYS AS IDENTITY)");
    Replicator r(db.args(), fresh_log("it_targetcols"));
    db.source->exec("INSERT INTO t SELECT g, g, 0 FROM generate_series(1, 10) g");
    db.source->exec("UPDATE t SET price = 100 WHERE id = 1");
    EXPECT_TRUE(
        harness::wait_for([&] { return db.target->count("t WHERE price = 100") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(
        db.target->value("SELECT string_agg(id || ':' || price || ':' || total || ':' || note, "
                         "',' ORDER BY id) FROM t WHERE id <= 2"),
        "1:100:200:from-default,2:2:4:from-default");
}

TEST(Connections, FluentLogsAreJsonLines) {
    Databases db("it_fluent", "CREATE TABLE t(id int PRIMARY KEY)");
    std::string file = harness::servers_base() + "/it_fluent.json";
    ::unlink(file.c_str());
    Replicator r(db.args({"--logFormat", "fluent", "--logDestination", file, "-v"}),
                 fresh_log("it_fluent"));
    db.source->exec("INSERT INTO t VALUES (1)");
    EXPECT_TRUE(converges(db, {"t"}));
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0);
    std::ifstream in(file);
    std::string line;
    int lines = 0;
    bool saw_progress = false;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);  // throws on a line that is not JSON
        EXPECT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
        saw_progress |= j["msg"].get<std::string>().find("progressed to LSN") != std::string::npos;
        ++lines;
    }
    EXPECT_GT(lines, 3);
    EXPECT_TRUE(saw_progress);
}

}  // namespace
