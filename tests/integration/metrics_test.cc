// Observability of a running `replicator pglogical` against real PostgreSQL servers:
// /_/varz parsed by a real Prometheus parser, /_/healthz following the target and stalls,
// /_/diag without secrets, and metrics snapshots on disk.

#include "exposition.h"
#include "harness.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <thread>
#include <zlib.h>

namespace {

using harness::converges;
using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;
using harness::parse_exposition;
using harness::sample;
using nlohmann::json;

std::vector<std::string> metrics_args(Databases& db, int port,
                                      std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"--metricsAddr", "127.0.0.1:" + std::to_string(port)};
    a.insert(a.end(), extra.begin(), extra.end());
    return db.args(a);
}

bool healthz_is(int port, int status, std::string* body = nullptr) {
    auto [code, text] = harness::http_get(port, "/_/healthz");
    if (body != nullptr) {
        *body = text;
    }
    return code == status;
}

TEST(Metrics, VarzCountsEqualReplicatedRows) {
    const int port = 26501;
    Databases db("it_varz",
                 "CREATE TABLE a(id int PRIMARY KEY, v text);"
                 "CREATE TABLE b(id int PRIMARY KEY, v text);");
    Replicator r(metrics_args(db, port), fresh_log("it_varz"));
    db.source->exec("INSERT INTO a SELECT g, 'x' FROM generate_series(1, 300) g");
    db.source->exec("INSERT INTO b SELECT g, 'x' FROM generate_series(1, 200) g");
    ASSERT_TRUE(converges(db, {"a", "b"}));
    db.source->exec("UPDATE a SET v = 'y' WHERE id <= 50");
    ASSERT_TRUE(converges(db, {"a", "b"}));
    db.source->exec("DELETE FROM b WHERE id <= 30");
    ASSERT_TRUE(converges(db, {"a", "b"}));

    ASSERT_EQ(harness::http_get(port, "/_/varz").first, 200);
    // The apply counters move just after each target COMMIT returns: converged data can be
    // seen a moment before them.
    json m;
    ASSERT_TRUE(harness::wait_for(
        [&] {
            m = parse_exposition(harness::http_get(port, "/_/varz").second);
            return sample(m, "apply_deletes_total", {{"table", "b"}}) == 30;
        },
        30s));
    const std::string schema = "it_varz.public";
    EXPECT_EQ(sample(m, "apply_upserts_total", {{"schema", schema}, {"table", "a"}}), 350);
    EXPECT_EQ(sample(m, "apply_upserts_total", {{"schema", schema}, {"table", "b"}}), 200);
    EXPECT_EQ(sample(m, "apply_deletes_total", {{"schema", schema}, {"table", "b"}}), 30);
    // Both series exist for every applied table, so the drain expression sums per table.
    EXPECT_EQ(sample(m, "apply_deletes_total", {{"schema", schema}, {"table", "a"}}), 0);
    EXPECT_EQ(sample(m, "mutation_total", {{"source", "pglogical"}, {"type", "insert"}}), 500);
    EXPECT_EQ(sample(m, "mutation_total", {{"source", "pglogical"}, {"type", "update"}}), 50);
    EXPECT_EQ(sample(m, "mutation_total", {{"source", "pglogical"}, {"type", "delete"}}), 30);
    EXPECT_EQ(sample(m, "pglogical_dial_success_total"), 1);
    // Present at zero from the start, so error panels and alerts have a value.
    EXPECT_EQ(sample(m, "apply_errors_total", {{"table", "a"}}), 0);
    EXPECT_EQ(sample(m, "replicator_build_info"), 1);
    EXPECT_GE(sample(m, "apply_duration_seconds_count", {{"table", "a"}}), 2);
    // The names MOLT Replicator's dashboards and drain expression use, and the additions.
    for (const char* family : {"apply_upserts",
                               "apply_deletes",
                               "apply_duration_seconds",
                               "mutation",
                               "core_source_lag_seconds",
                               "source_commit_to_apply_lag_seconds",
                               "target_apply_transaction_lag_seconds",
                               "target_apply_mutation_age_seconds",
                               "target_apply_queue_size",
                               "target_apply_queue_utilization_percent",
                               "core_parallelism_utilization_percent",
                               "pglogical_dial_success",
                               "pglogical_dial_failure",
                               "process_cpu_seconds",
                               "process_resident_memory_bytes",
                               "process_open_fds",
                               "process_start_time_seconds",
                               "pglogical_confirmed_lsn",
                               "pglogical_slot_retained_wal_bytes",
                               "target_seconds_since_last_apply"}) {
        EXPECT_TRUE(m["families"].contains(family)) << family;
    }
    EXPECT_GT(sample(m, "process_resident_memory_bytes"), 1e6);
    // The checkpoint gauge equals the slot's confirmed position once idle.
    ASSERT_TRUE(harness::wait_for(
        [&] {
            auto confirmed = db.source->value(
                "SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::text FROM pg_replication_slots "
                "WHERE slot_name = 'slot_it_varz'");
            json now = parse_exposition(harness::http_get(port, "/_/varz").second);
            return confirmed && std::stod(*confirmed) == sample(now, "pglogical_confirmed_lsn");
        },
        20s));
}

// Each thread carries the name of its part of the pipeline, as `top -H`, `ps -L` and perf
// show it (/proc/PID/task/TID/comm), so a profile says which part costs what.
TEST(Metrics, ThreadsAreNamedByTheirPart) {
    Databases db("it_threads", "CREATE TABLE a(id int PRIMARY KEY, v text);");
    Replicator r(db.args({}), fresh_log("it_threads"));
    db.source->exec("INSERT INTO a SELECT g, 'x' FROM generate_series(1, 100) g");
    ASSERT_TRUE(converges(db, {"a"}));
    std::set<std::string> names;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(r.pid()) + "/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        names.insert(name);
    }
    for (const char* part : {"replicator", "reader", "apply-0", "monitor", "stop-watch"}) {
        EXPECT_EQ(names.count(part), 1u) << part;
    }
}

// core_parallel_groups_total says how parallel apply placed its groups: here every hot update
// touches one row, so with a slow target the groups behind the first share its key.
TEST(Metrics, ParallelGroupsAreCountedByPlacement) {
    const int port = 26509;
    Databases db("it_placement",
                 "CREATE TABLE hot(k int PRIMARY KEY, v int NOT NULL);"
                 "CREATE TABLE cold(id int PRIMARY KEY);");
    db.source->exec("INSERT INTO hot VALUES (1, 0)");
    db.target->exec(
        "CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "  PERFORM pg_sleep(0.002); RETURN NEW; END $$;"
        "CREATE TRIGGER slow_row BEFORE INSERT OR UPDATE ON hot FOR EACH ROW "
        "  EXECUTE FUNCTION slow_row();");
    Replicator r(metrics_args(db, port, {"--parallelism", "4", "--flushSize", "5"}),
                 fresh_log("it_placement"));
    ASSERT_TRUE(converges(db, {"hot", "cold"}));
    db.source->exec(
        "DO $$ BEGIN FOR i IN 1..200 LOOP UPDATE hot SET v = i WHERE k = 1; COMMIT; END LOOP; "
        "END $$");
    db.source->exec("TRUNCATE cold");
    db.source->exec("INSERT INTO cold SELECT g FROM generate_series(1, 10) g");
    ASSERT_TRUE(converges(db, {"hot", "cold"}));
    json m = parse_exposition(harness::http_get(port, "/_/varz").second);
    EXPECT_GT(sample(m, "core_parallel_groups_total", {{"placement", "after_conflict"}}), 0);
    EXPECT_GT(sample(m, "core_parallel_groups_total", {{"placement", "independent"}}), 0);
    EXPECT_GE(sample(m, "core_parallel_groups_total", {{"placement", "barrier"}}), 1);
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0);

    // One connection places nothing: the family has no samples.
    Replicator serial(metrics_args(db, port, {"--parallelism", "1"}), fresh_log("it_placement"));
    db.source->exec("UPDATE hot SET v = -1");
    ASSERT_TRUE(converges(db, {"hot", "cold"}));
    m = parse_exposition(harness::http_get(port, "/_/varz").second);
    EXPECT_EQ(sample(m, "core_parallel_groups_total"), -1);
}

TEST(Metrics, HealthzFollowsTheTarget) {
    const int port = 26502;
    Databases db("it_healthz", "CREATE TABLE t(id int PRIMARY KEY)");
    Replicator r(metrics_args(db, port, {"--maxRetries", "1000", "--retryMaxBackoff", "500ms"}),
                 fresh_log("it_healthz"));
    ASSERT_TRUE(harness::wait_for([&] { return healthz_is(port, 200); }, 30s)) << r.log();
    std::string script = std::string(REP_SOURCE_DIR) + "/scripts/pg_servers.sh";
    db.target.reset();
    ASSERT_EQ(std::system((script + " stop-target " + harness::servers_base()).c_str()), 0);
    auto stopped = std::chrono::steady_clock::now();
    std::string body;
    EXPECT_TRUE(harness::wait_for([&] { return healthz_is(port, 503, &body); }, 30s));
    EXPECT_LT(std::chrono::steady_clock::now() - stopped, 30s);
    EXPECT_NE(body.find("target"), std::string::npos) << body;
    EXPECT_EQ(body.find('\n'), body.size() - 1) << "one line: " << body;
    ASSERT_EQ(std::system((script + " start-target " + harness::servers_base() + " " +
                           std::to_string(harness::target_port()))
                              .c_str()),
              0);
    EXPECT_TRUE(harness::wait_for([&] { return healthz_is(port, 200, &body); }, 30s)) << body;
    db.target = std::make_unique<harness::Sql>(harness::target_port(), db.name);
    db.source->exec("INSERT INTO t VALUES (1), (2)");
    EXPECT_TRUE(converges(db, {"t"}));
}

TEST(Metrics, StallIsLoggedAndUnhealthy) {
    const int port = 26503;
    Databases db("it_stall", "CREATE TABLE t(id int PRIMARY KEY)");
    std::string log = fresh_log("it_stall");
    Replicator r(metrics_args(db, port, {"--stallTimeout", "3s", "--applyTimeout", "5m"}), log);
    ASSERT_TRUE(harness::wait_for([&] { return healthz_is(port, 200); }, 30s)) << r.log();
    // Another session holds a lock the replicator needs: changes arrive but cannot apply.
    harness::Sql locker(harness::target_port(), db.name);
    locker.exec("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    db.source->exec("INSERT INTO t VALUES (1)");
    std::string body;
    EXPECT_TRUE(harness::wait_for([&] { return healthz_is(port, 503, &body); }, 30s));
    EXPECT_NE(body.find("stalled"), std::string::npos) << body;
    EXPECT_NE(r.log().find("replication stalled"), std::string::npos);
    locker.exec("COMMIT");
    EXPECT_TRUE(harness::wait_for([&] { return healthz_is(port, 200); }, 30s));
    EXPECT_TRUE(converges(db, {"t"}));
}

TEST(Metrics, DiagHasStateButNoSecrets) {
    const int port = 26504;
    Databases db("it_diag", "CREATE TABLE t(id int PRIMARY KEY)");
    auto args = metrics_args(db, port);
    args[2] =
        "postgresql://postgres:src-pass-42@127.0.0.1:" + std::to_string(harness::source_port()) +
        "/it_diag?application_name=x&password=other-secret";
    Replicator r(args, fresh_log("it_diag"));
    db.source->exec("INSERT INTO t SELECT generate_series(1, 10)");
    ASSERT_TRUE(converges(db, {"t"}));
    auto [code, text] = harness::http_get(port, "/_/diag");
    ASSERT_EQ(code, 200);
    for (const char* secret : {"hunter2-secret", "src-pass-42", "other-secret"}) {
        EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
        EXPECT_EQ(r.log().find(secret), std::string::npos) << secret << " in the log";
    }
    json d = json::parse(text);
    EXPECT_EQ(d["tables"]["t"]["upserts"], 10);
    EXPECT_EQ(d["config"]["slotName"], "slot_it_diag");
    // Users and hosts are hidden from anyone who can reach the endpoint; the log keeps them.
    EXPECT_EQ(d["config"]["targetConn"], "postgresql://<hidden>@<hidden>:" +
                                             std::to_string(harness::target_port()) + "/it_diag");
    EXPECT_EQ(text.find("127.0.0.1"), std::string::npos) << text;
    EXPECT_NE(r.log().find("postgresql://postgres@127.0.0.1:"), std::string::npos);
    EXPECT_TRUE(d["health"]["ok"].get<bool>()) << text;
    EXPECT_TRUE(d.contains("positions") && d.contains("lag") && d.contains("recent_errors"));
    r.signal(SIGTERM);
    ASSERT_EQ(r.wait(30s), 0) << r.log();

    // Asked for, they are shown; a health reason names them too.
    args.push_back("--diagShowHosts");
    Replicator shown(args, fresh_log("it_diag"));
    ASSERT_TRUE(harness::wait_for([&] { return healthz_is(port, 200); }, 60s)) << shown.log();
    d = json::parse(harness::http_get(port, "/_/diag").second);
    EXPECT_EQ(d["config"]["targetConn"], "postgresql://postgres@127.0.0.1:" +
                                             std::to_string(harness::target_port()) + "/it_diag");
}

std::vector<std::filesystem::path> snapshots(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().filename().string().rfind("snapshot-", 0) == 0) {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string gunzip(const std::filesystem::path& p) {
    gzFile f = gzopen(p.c_str(), "rb");
    std::string out;
    char buf[65536];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
    }
    gzclose(f);
    return out;
}

TEST(Metrics, SnapshotsAppearAndArePrunedByAge) {
    const int port = 26505;
    Databases db("it_snap", "CREATE TABLE t(id int PRIMARY KEY)");
    std::filesystem::path dir = harness::servers_base() + "/data-it_snap/metrics-snapshots";
    std::filesystem::remove_all(dir);
    Replicator r(
        metrics_args(db, port,
                     {"--metricsSnapshotPeriod", "1s", "--metricsSnapshotRetentionTime", "4s"}),
        fresh_log("it_snap"));
    db.source->exec("INSERT INTO t SELECT generate_series(1, 10)");
    ASSERT_TRUE(harness::wait_for([&] { return snapshots(dir).size() >= 3; }, 30s)) << r.log();
    auto files = snapshots(dir);
    EXPECT_EQ(files[0].extension(), ".gz");
    json parsed = parse_exposition(gunzip(files.back()));
    EXPECT_GT(parsed["samples"].size(), 20u);
    EXPECT_FALSE(parsed["samples"][0]["timestamp"].is_null())
        << "snapshot samples carry timestamps";
    auto first = files[0];
    std::this_thread::sleep_for(7s);
    files = snapshots(dir);
    EXPECT_FALSE(std::filesystem::exists(first)) << "older than the retention time";
    EXPECT_LE(files.size(), 6u);
    EXPECT_GE(files.size(), 3u);
}

TEST(Metrics, SnapshotsArePrunedBySize) {
    const int port = 26506;
    Databases db("it_snapsize", "CREATE TABLE t(id int PRIMARY KEY)");
    std::filesystem::path dir = harness::servers_base() + "/data-it_snapsize/metrics-snapshots";
    std::filesystem::remove_all(dir);
    Replicator r(metrics_args(db, port,
                              {"--metricsSnapshotPeriod", "500ms", "--metricsSnapshotCompression",
                               "none", "--metricsSnapshotRetentionTime", "0",
                               "--metricsSnapshotRetentionSize", "100KB"}),
                 fresh_log("it_snapsize"));
    // A snapshot is about 26 KB: the limit holds a few, and 5 s of snapshots every 500 ms
    // are well over it.
    ASSERT_TRUE(harness::wait_for([&] { return snapshots(dir).size() >= 2; }, 30s)) << r.log();
    std::this_thread::sleep_for(5s);
    auto files = snapshots(dir);
    uint64_t total = 0;
    for (const auto& f : files) {
        EXPECT_EQ(f.extension(), ".txt");
        total += std::filesystem::file_size(f);
    }
    uint64_t one = std::filesystem::file_size(files.back());
    EXPECT_LE(total, 100000u + one) << files.size() << " files";
    EXPECT_GE(files.size(), 2u);
    EXPECT_LE(files.size(), 100000u / one + 2);
}

TEST(Metrics, SnapshotFlagsNeedMetricsAddrAndRetention) {
    Databases db("it_snapflags", "", /*create_slot=*/false);
    auto [status, out] = harness::run_replicator(db.args({"--metricsSnapshotPeriod", "15s"}), 30s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("--metricsSnapshotPeriod needs --metricsAddr"), std::string::npos) << out;
    std::tie(status, out) =
        harness::run_replicator(db.args({"--metricsAddr", ":26507", "--metricsSnapshotPeriod",
                                         "15s", "--metricsSnapshotRetentionTime", "0"}),
                                30s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("retention"), std::string::npos) << out;
}

}  // namespace
