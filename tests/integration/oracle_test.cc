// replicator oraclelogminer end to end, as a user runs it: the production binary loads the
// stand-in Oracle client library (tests/oracle_sim/stand_in_oci.cc) through
// --oracleClientLibDir and reads the simulated Oracle server process (no Oracle server can
// run here; docs/oraclelogminer.md says what was not run against a real one), and applies
// into the real PostgreSQL target. The workload interleaves transactions on two redo
// threads with savepoints, failed statements, rollbacks, key changes and log switches; the
// replicator is killed with SIGKILL while it runs; every sample of the target taken meanwhile
// must be the source's state after some commit, and the target must end equal to the
// source's committed state.

#include "exposition.h"
#include "harness.h"
#include "sim_process.h"
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <signal.h>
#include <thread>

namespace {

using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using json = nlohmann::json;
using rep::oracle::sim::SimServer;
using namespace std::chrono_literals;

constexpr int kMetricsPort = 26514;

constexpr const char* kTables =
    "CREATE TABLE t1(id text PRIMARY KEY, n text, s text);"
    "CREATE TABLE t2(id text PRIMARY KEY, v text)";

// The target's tables in the simulator's state format ("T1|id|n|s" lines in key order), read
// in one statement, so one snapshot.
std::string target_state(harness::Sql& target) {
    std::string out;
    for (const auto& row : target.rows(
             "SELECT line FROM (SELECT 1 AS t, id, 'T1|' || id || '|' || coalesce(n, 'NULL') || "
             "'|' || coalesce(s, 'NULL') AS line FROM t1 UNION ALL SELECT 2, id, 'T2|' || id || "
             "'|' || coalesce(v, 'NULL') FROM t2) u ORDER BY t, id COLLATE \"C\"")) {
        out += row.at(0).value_or("") + "\n";
    }
    return out;
}

// The lines by which `sample` differs from the closest of `states` ("-" only in the sample).
std::string nearest(const std::set<std::string>& states, const std::string& sample) {
    auto lines = [](const std::string& text) {
        std::set<std::string> out;
        size_t at = 0;
        while (at < text.size()) {
            size_t nl = text.find('\n', at);
            out.insert(text.substr(at, nl - at));
            at = nl + 1;
        }
        return out;
    };
    std::set<std::string> mine = lines(sample);
    std::string best;
    size_t best_size = SIZE_MAX;
    for (const std::string& state : states) {
        std::set<std::string> theirs = lines(state);
        std::string diff;
        size_t n = 0;
        for (const std::string& l : mine) {
            if (!theirs.contains(l)) {
                diff += "- " + l + "\n";
                ++n;
            }
        }
        for (const std::string& l : theirs) {
            if (!mine.contains(l)) {
                diff += "+ " + l + "\n";
                ++n;
            }
        }
        if (n < best_size) {
            best_size = n;
            best = diff;
        }
    }
    return best;
}

// The command line (no --backfillFromSCN when `backfill` is nullopt); `buffer` is
// --transactionBufferBytes (4 KiB by default: open transactions
// beyond a few changes go to files, so the tests run the spill path too).
std::vector<std::string> args(const Databases& db, const SimServer& sim, uint64_t scn,
                              std::optional<uint64_t> backfill,
                              const std::vector<std::string>& extra = {},
                              const std::string& buffer = "4096",
                              const std::string& window = "40") {
    std::vector<std::string> a = {"oraclelogminer",
                                  "--sourceConn",
                                  sim.url("ORCLCDB"),
                                  "--sourcePDBConn",
                                  sim.url("ORCLPDB1"),
                                  "--sourceSchema",
                                  "APP",
                                  "--targetConn",
                                  db.target_url,
                                  "--targetSchema",
                                  db.name + ".public",
                                  "--stagingSchema",
                                  "_replicator",
                                  "--stagingCreateSchema",
                                  "--scn",
                                  std::to_string(scn),
                                  "--oracleClientLibDir",
                                  ORACLE_STAND_IN_DIR,
                                  "--scnWindowSize",
                                  window,
                                  "--flushPeriod",
                                  "50ms",
                                  "--transactionBufferBytes",
                                  buffer,
                                  "--dataDir",
                                  harness::servers_base() + "/data-" + db.name};
    if (backfill) {
        a.insert(a.end(), {"--backfillFromSCN", std::to_string(*backfill)});
    }
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

// Loads the target as MOLT Fetch would: the source AS OF the current SCN.
std::pair<uint64_t, uint64_t> snapshot(SimServer& sim, harness::Sql& target) {
    sim.control({{"cmd", "tick"}});
    uint64_t scn = sim.control({{"cmd", "current_scn"}}).at("scn");
    uint64_t backfill = scn;
    json open = sim.control({{"cmd", "open_first_scns"}});
    for (const auto& [xid, first] : open.at("scns").items()) {
        backfill = std::min<uint64_t>(backfill, first.get<uint64_t>());
    }
    json snap = sim.control({{"cmd", "snapshot"}});
    for (const auto& [table, rows] : snap.at("rows").items()) {
        for (const auto& row : rows) {
            std::string values;
            for (const auto& v : row) {
                std::string text = v.is_null() ? "" : rep::oracle::sim::wire::from_hex(v);
                std::string quoted = "'";
                for (char c : text) {
                    quoted += c == '\'' ? "''" : std::string(1, c);
                }
                values += (values.empty() ? "" : ", ") + (v.is_null() ? "NULL" : quoted + "'");
            }
            target.exec("INSERT INTO " + std::string(table == "T1" ? "t1" : "t2") + " VALUES (" +
                        values + ")");
        }
    }
    return {scn, backfill};
}

TEST(Oraclelogminer, ConvergesThroughKillNineFromASnapshot) {
    Databases db("it_oracle", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 7, 2);
    sim.control({{"cmd", "step"}, {"n", 200}});
    auto [scn, backfill] = snapshot(sim, *db.target);
    std::string log = fresh_log("it_oracle");
    auto r = std::make_unique<Replicator>(args(db, sim, scn, backfill), log);
    int kills = harness::kill_count(20);
    std::vector<std::string> samples;
    for (int i = 0; i < kills; ++i) {
        if (i % 2 == 1) {
            // The network drops while LogMiner is read: the window is mined again after a
            // reconnect, nothing twice.
            sim.control({{"cmd", "cut"}, {"n", 1 + i % 3}});
        }
        for (int s = 0; s < 10; ++s) {
            sim.control({{"cmd", "step"}, {"n", 40}});
            std::this_thread::sleep_for(30ms);
            samples.push_back(target_state(*db.target));
        }
        r->signal(SIGKILL);
        r->wait(10s);
        std::vector<std::string> extra;
        if (i + 1 == kills) {
            extra = {"--metricsAddr", "127.0.0.1:" + std::to_string(kMetricsPort)};
        }
        r = std::make_unique<Replicator>(args(db, sim, scn, backfill, extra), log);
    }
    // The source goes quiet with its last commits at the redo threads' LAST_REDO_SCN: only
    // the replicator's REPLICATOR_SENTINEL heartbeat lets them be mined.
    sim.control({{"cmd", "finish"}, {"heartbeats", false}});
    std::string expected = sim.control({{"cmd", "state"}}).at("state");
    bool same = harness::wait_for([&] { return target_state(*db.target) == expected; }, 60s);
    EXPECT_TRUE(same) << "target:\n"
                      << target_state(*db.target) << "\nsource:\n"
                      << expected << "\n"
                      << r->log();
    // At every instant the target was the source as of some commit: transactions applied
    // whole, in commit order, none twice.
    json states = sim.control({{"cmd", "states"}}).at("states");
    std::set<std::string> known(states.begin(), states.end());
    for (size_t i = 0; i < samples.size(); ++i) {
        if (!known.contains(samples[i])) {
            ADD_FAILURE() << "sample " << i << " of " << samples.size()
                          << " is no state of the source; nearest:\n"
                          << nearest(known, samples[i]) << r->log();
            break;
        }
    }
    // Everything is marked: no transaction is left open in _oracle_checkpoint.
    EXPECT_TRUE(harness::wait_for(
        [&] {
            return db.target->value(
                       "SELECT count(*) FROM _replicator._oracle_checkpoint WHERE "
                       "NOT committed AND xid <> 'frontier'") == "0";
        },
        30s))
        << r->log();
    // MOLT's Oracle histograms and gauges, as the last run saw its windows and checkpoints.
    json m = harness::parse_exposition(harness::http_get(kMetricsPort, "/_/varz").second);
    EXPECT_GT(harness::sample(m, "oraclelogminer_time_per_window_seconds_count"), 0);
    EXPECT_GT(harness::sample(m, "oraclelogminer_query_redo_logs_duration_seconds_count"), 0);
    EXPECT_GT(harness::sample(m, "oraclelogminer_upsert_checkpoints_duration_count"), 0);
    EXPECT_EQ(harness::sample(m, "oraclelogminer_num_inflight_transactions_in_memory"), 0);
    EXPECT_EQ(harness::sample(m, "oraclelogminer_num_inflight_transactions_on_disk"), 0);
    // Both faults happened: connections cut mid-window, and open transactions on disk.
    EXPECT_NE(r->log().find("ORA-03113"), std::string::npos) << r->log();
    EXPECT_NE(r->log().find("moved to a file"), std::string::npos) << r->log();
    r->signal(SIGTERM);
    EXPECT_EQ(r->wait(10s), 0) << r->log();
}

// A transaction of 180 MB of SQL_REDO (60,000 rows of 3,000 bytes) under a 4 MiB buffer: it
// is held on disk while open and reaches the target whole, and the replicator's memory stays
// far below its size.
TEST(Oraclelogminer, ALargeTransactionIsHeldOnDiskNotInMemory) {
    const int rows = 60000;
    Databases db("it_oracle_large", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 5, 1);
    sim.control({{"cmd", "setup"},
                 {"seed", 5},
                 {"threads", 1},
                 {"csf_limit", 4000},
                 {"record_states", false}});
    auto [scn, backfill] = snapshot(sim, *db.target);
    std::string buffer = std::getenv("REP_TEST_ORACLE_BUFFER") != nullptr
                             ? std::getenv("REP_TEST_ORACLE_BUFFER")
                             : std::to_string(4 << 20);
    // The other bounds on row changes in memory, in rows: the queue to the applier, and a
    // worker's batches (4 x --flushSize); the retry log holds at most 32 MiB.
    std::vector<std::string> extra = {"--targetApplyQueueSize", "1000", "--flushSize", "500"};
    Replicator r(args(db, sim, scn, backfill, extra, buffer, "500"), fresh_log("it_oracle_large"));
    sim.control({{"cmd", "large"}, {"rows", rows}, {"width", 3000}});
    EXPECT_TRUE(harness::wait_for(
        [&] {
            return db.target->value("SELECT count(*) FROM t2 WHERE id LIKE 'L%'") ==
                   std::to_string(rows);
        },
        120s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT sum(length(v)) FROM t2 WHERE id LIKE 'L%'"),
              std::to_string(rows * 3000));
    long peak_mib = r.peak_rss_kib() / 1024;
    std::printf("peak RSS %ld MiB for a %d MiB transaction (buffer %s)\n", peak_mib,
                rows * 3000 >> 20, buffer.c_str());
    // Bounded by the buffer, the queues and the retry log (about 80 MiB here); without the
    // spill it would be well over the transaction's size.
    EXPECT_LT(peak_mib, 120) << r.log();
    EXPECT_NE(r.log().find("moved to a file"), std::string::npos) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(10s), 0) << r.log();
}

// A backlog committed 3 s before the replicator starts: the lag metrics count from each
// commit's redo TIMESTAMP (the simulated server's clock runs at UTC+05:30, which the
// replicator learns from SYSDATE), so the commits show 3 s or more, and none shows the
// hours a misread time zone would.
TEST(Oraclelogminer, LagIsMeasuredFromTheRedoTime) {
    Databases db("it_oracle_lag", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 11, 1);
    auto [scn, backfill] = snapshot(sim, *db.target);
    sim.control({{"cmd", "step"}, {"n", 200}});
    sim.control({{"cmd", "finish"}});
    std::string expected = sim.control({{"cmd", "state"}}).at("state");
    std::this_thread::sleep_for(3s);
    Replicator r(args(db, sim, scn, backfill,
                      {"--metricsAddr", "127.0.0.1:" + std::to_string(kMetricsPort + 1)}),
                 fresh_log("it_oracle_lag"));
    ASSERT_TRUE(harness::wait_for([&] { return target_state(*db.target) == expected; }, 60s))
        << r.log();
    json m = harness::parse_exposition(harness::http_get(kMetricsPort + 1, "/_/varz").second);
    // Cumulative bucket counts of the lag histogram, by upper bound.
    std::map<double, double> buckets;
    for (const auto& sample : m["samples"]) {
        if (sample["name"] == "core_source_lag_seconds_bucket") {
            std::string le = sample["labels"]["le"];
            double bound = le == "+Inf" ? 1e300 : std::stod(le);
            buckets[bound] += sample["value"].get<double>();
        }
    }
    ASSERT_TRUE(buckets.contains(2.5) && buckets.contains(60) && buckets.contains(1e300))
        << m.dump();
    double all = buckets[1e300];
    double quick = buckets[2.5];
    double within_a_minute = buckets[60];
    EXPECT_GT(all, 0) << r.log();
    EXPECT_GT(all - quick, 0) << "no commit showed the backlog's age\n" << r.log();
    EXPECT_EQ(within_a_minute, all) << "lag of hours: the time zone was misread\n" << r.log();
    EXPECT_NE(r.log().find("the database clock is UTC+05:30"), std::string::npos) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(10s), 0) << r.log();
}

// The lines of a state text ("T1|..." / "T2|..." lines) that belong to `table`.
std::string lines_of(const std::string& state, const std::string& table) {
    std::string out;
    size_t at = 0;
    while (at < state.size()) {
        size_t nl = state.find('\n', at);
        std::string line = state.substr(at, nl - at + 1);
        if (line.rfind(table + "|", 0) == 0) {
            out += line;
        }
        at = nl + 1;
    }
    return out;
}

// A userscript runs on oraclelogminer as on the other commands: this one drops every change
// of table T1 and rebuilds T2's rows. It sees Oracle's names, as MOLT's Oracle scripts do
// (EMPLOYEES, not employees), and the names it gives back reach the target folded.
TEST(Oraclelogminer, UserscriptFiltersATable) {
    Databases db("it_oracle_us", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 13, 1);
    sim.control({{"cmd", "step"}, {"n", 100}});
    auto [scn, backfill] = snapshot(sim, *db.target);
    std::string at_snapshot = target_state(*db.target);
    std::string script = harness::write_script("oracle_us", "drop_t1.ts", R"ts(
import * as api from "replicator@v2";
api.configureTargetSchema("it_oracle_us.public", {
  onRowUpsert: (row, meta) => {
    if (meta.table === "T1") return null;
    if (!("ID" in row) || "id" in row) throw new Error("not Oracle's names: " + Object.keys(row));
    return { ID: row.ID, V: row.V };
  },
  onRowDelete: (keys, meta) => (meta.table === "T1" ? null : keys),
});
)ts");
    Replicator r(args(db, sim, scn, backfill, {"--userscript", script}), fresh_log("it_oracle_us"));
    sim.control({{"cmd", "step"}, {"n", 300}});
    sim.control({{"cmd", "finish"}});
    std::string source = sim.control({{"cmd", "state"}}).at("state");
    ASSERT_NE(lines_of(source, "T1"), lines_of(at_snapshot, "T1")) << "the workload left T1 alone";
    ASSERT_NE(lines_of(source, "T2"), lines_of(at_snapshot, "T2")) << "the workload left T2 alone";
    EXPECT_TRUE(harness::wait_for(
        [&] { return lines_of(target_state(*db.target), "T2") == lines_of(source, "T2"); }, 60s))
        << r.log();
    EXPECT_EQ(lines_of(target_state(*db.target), "T1"), lines_of(at_snapshot, "T1")) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(10s), 0) << r.log();
}

// API v1's `ignore`, as an Oracle script spells it (S, the source's name): the target's
// column s is never written, though the table-level handler sees the target's names (s).
// A row keeps the s the snapshot gave it (or the row whose key an UPDATE changed to its own:
// the target's row moves, s with it); rows inserted since have none.
TEST(Oraclelogminer, UserscriptV1IgnoresAColumnByOraclesName) {
    Databases db("it_oracle_ign", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 17, 1);
    sim.control({{"cmd", "step"}, {"n", 100}});
    auto [scn, backfill] = snapshot(sim, *db.target);
    std::set<std::string> snapshot_s;
    for (const auto& row : db.target->rows("SELECT s FROM t1 WHERE s IS NOT NULL")) {
        snapshot_s.insert(*row.at(0));
    }
    std::string script = harness::write_script("oracle_ign", "ignore.ts", R"ts(
import * as api from "replicator@v1";
api.configureTable("T1", {
  ignore: { S: true },
  map: (doc: any) => {
    if (!("id" in doc)) throw new Error("not the target's names: " + Object.keys(doc));
    return doc;
  },
});
)ts");
    Replicator r(args(db, sim, scn, backfill, {"--userscript", script}),
                 fresh_log("it_oracle_ign"));
    sim.control({{"cmd", "step"}, {"n", 300}});
    sim.control({{"cmd", "finish"}});
    // The source's T1 lines ("T1|id|n|s") by id; ids hold no "|", values may.
    std::map<std::string, std::string> source;
    std::string lines = lines_of(sim.control({{"cmd", "state"}}).at("state"), "T1");
    for (size_t at = 0; at < lines.size(); at = lines.find('\n', at) + 1) {
        std::string line = lines.substr(at, lines.find('\n', at) - at);
        source[line.substr(3, line.find('|', 3) - 3)] = line;
    }
    // The s a target row may have: one the snapshot gave, or none (a row inserted, or
    // deleted and inserted again, since). The workload's values hold random numbers.
    auto allowed = [&](const std::optional<std::string>& s) {
        return !s || snapshot_s.contains(*s);
    };
    // Every source row is on the target with its n, and its s as allowed; else the first
    // row that is not.
    auto mismatch = [&]() -> std::string {
        auto target = db.target->rows("SELECT id, n, s FROM t1");
        if (target.size() != source.size()) {
            return fmt::format("{} rows on the target, {} on the source", target.size(),
                               source.size());
        }
        for (const auto& row : target) {
            const std::string& id = *row.at(0);
            auto line = source.find(id);
            if (line == source.end() || !allowed(row.at(2)) ||
                line->second.rfind("T1|" + id + "|" + row.at(1).value_or("NULL") + "|", 0) != 0) {
                return fmt::format("target row {}: n {}, s {}; source: {}", id,
                                   row.at(1).value_or("NULL"), row.at(2).value_or("NULL"),
                                   line == source.end() ? "none" : line->second);
            }
        }
        return "";
    };
    EXPECT_TRUE(harness::wait_for([&] { return mismatch().empty(); }, 60s)) << mismatch() << "\n"
                                                                            << r.log();
    // And the workload did write S (else the test proves nothing): some source row's s is
    // neither none nor the snapshot's.
    size_t written = 0;
    for (const auto& row : db.target->rows("SELECT id, n, s FROM t1")) {
        std::string prefix = "T1|" + *row.at(0) + "|" + row.at(1).value_or("NULL") + "|";
        const std::string& line = source[*row.at(0)];
        std::optional<std::string> s;
        if (line.substr(prefix.size()) != "NULL") {
            s = line.substr(prefix.size());
        }
        written += allowed(s) ? 0 : 1;
    }
    EXPECT_GT(written, 0U) << "the workload never wrote S";
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(10s), 0) << r.log();
}

// A first run given only --scn: transactions open at the snapshot (and still open) began
// before it, and mining starts at the oldest of them, found in V$TRANSACTION, so that their
// changes before --scn are applied too. Later runs resume from _oracle_checkpoint.
TEST(Oraclelogminer, FirstRunWithoutBackfillStartsAtTheOldestOpenTransaction) {
    Databases db("it_oracle_nobf", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 17, 1);
    sim.control({{"cmd", "step"}, {"n", 150}});
    auto [scn, backfill] = snapshot(sim, *db.target);
    ASSERT_LT(backfill, scn) << "no transaction was open at the snapshot";
    Replicator r(args(db, sim, scn, std::nullopt, {"--oracle-application-users", "SYS,APP"}),
                 fresh_log("it_oracle_nobf"));
    // The transactions open at the snapshot must still be open when the first run looks.
    ASSERT_TRUE(harness::wait_for(
        [&] { return r.log().find("first run: mining from SCN") != std::string::npos; }, 30s))
        << r.log();
    sim.control({{"cmd", "step"}, {"n", 150}});
    sim.control({{"cmd", "finish"}});
    std::string expected = sim.control({{"cmd", "state"}}).at("state");
    EXPECT_TRUE(harness::wait_for([&] { return target_state(*db.target) == expected; }, 60s))
        << "target:\n"
        << target_state(*db.target) << "\nsource:\n"
        << expected << "\n"
        << r.log();
    EXPECT_NE(r.log().find("first run: mining from SCN " + std::to_string(backfill)),
              std::string::npos)
        << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(10s), 0) << r.log();
}

// A stop while a LogMiner query is in flight (the simulator makes each take a minute) ends
// the process within seconds: the call is broken, not waited for.
TEST(Oraclelogminer, StopsDuringASlowLogMinerQuery) {
    Databases db("it_oracle_stop", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 9, 1);
    auto [scn, backfill] = snapshot(sim, *db.target);
    Replicator r(args(db, sim, scn, backfill), fresh_log("it_oracle_stop"));
    // Reading has begun once the first run created _oracle_checkpoint.
    ASSERT_TRUE(harness::wait_for(
        [&] {
            return db.target->value(
                       "SELECT to_regclass('_replicator._oracle_checkpoint') IS NOT "
                       "NULL") == "t";
        },
        30s))
        << r.log();
    sim.control({{"cmd", "delay"}, {"ms", 60000}});
    sim.control({{"cmd", "step"}, {"n", 20}});
    std::this_thread::sleep_for(2s);  // a query is now waiting for its answer
    auto before = std::chrono::steady_clock::now();
    r.signal(SIGTERM);
    std::optional<int> status = r.wait(20s);
    ASSERT_TRUE(status) << "still running 20 s after SIGTERM\n" << r.log();
    EXPECT_EQ(*status, 0) << r.log();
    EXPECT_LT(std::chrono::steady_clock::now() - before, 5s) << r.log();
}

TEST(Oraclelogminer, StartupErrorsNameTheFix) {
    Databases db("it_oracle_errors", kTables, false);
    SimServer sim(ORACLE_SIM_SERVER, 8, 1);
    std::vector<std::string> a = args(db, sim, 100, 100);
    // The first run needs --scn.
    std::vector<std::string> no_scn;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] == "--scn" || a[i] == "--backfillFromSCN") {
            ++i;
            continue;
        }
        no_scn.push_back(a[i]);
    }
    auto [status, out] = harness::run_replicator(no_scn, 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("the first run of oraclelogminer needs --scn"), std::string::npos) << out;
    // A wrong password: the server's error, the URL without the password.
    std::vector<std::string> wrong = a;
    wrong[2] = sim.url("ORCLCDB", "hunter2");
    auto [status2, out2] = harness::run_replicator(wrong, 60s);
    EXPECT_NE(status2, 0) << out2;
    EXPECT_NE(out2.find("ORA-01017"), std::string::npos) << out2;
    EXPECT_EQ(out2.find("hunter2"), std::string::npos) << out2;
    // No client library.
    std::vector<std::string> nolib = a;
    for (size_t i = 0; i < nolib.size(); ++i) {
        if (nolib[i] == "--oracleClientLibDir") {
            nolib[i + 1] = "/nonexistent";
        }
    }
    auto [status3, out3] = harness::run_replicator(nolib, 60s);
    EXPECT_EQ(status3, 2) << out3;
    EXPECT_NE(out3.find("libaio1"), std::string::npos) << out3;
}

}  // namespace
