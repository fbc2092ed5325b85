// MOLT Replicator's dashboards against a running `replicator pglogical`: every metric name
// they query (tests/integration/molt_dashboard_metrics.txt) has a series of the type the
// panel reads, or is listed in docs/metrics.md as not applicable; and every expression of our
// own dashboard (dashboards/) finds its series in the same scrape.

#include "exposition.h"
#include "harness.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <signal.h>
#include <sstream>

namespace {

using harness::Databases;
using harness::parse_exposition;
using harness::sample;
using namespace std::chrono_literals;
using nlohmann::json;

std::string read_file(const std::string& relative) {
    std::ifstream in(std::string(REP_SOURCE_DIR) + "/" + relative);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The names in the first column of docs/metrics.md's table of MOLT metrics that do not apply.
std::set<std::string> documented_not_applicable() {
    std::istringstream doc(read_file("docs/metrics.md"));
    std::set<std::string> names;
    bool in_section = false;
    for (std::string line; std::getline(doc, line);) {
        if (line.rfind("#", 0) == 0) {
            in_section = line.find("MOLT metrics that do not apply") != std::string::npos;
            continue;
        }
        if (!in_section || line.rfind("| `", 0) != 0) {
            continue;
        }
        std::string first = line.substr(1, line.find('|', 1) - 1);
        std::regex name("`([a-z_]+)`");
        for (std::sregex_iterator it(first.begin(), first.end(), name), end; it != end; ++it) {
            names.insert((*it)[1]);
        }
    }
    return names;
}

bool has_sample(const json& m, const std::string& name) {
    return sample(m, name) >= 0;
}

// The family a sample name belongs to as prometheus_client names it, and its type.
std::string family_type(const json& m, const std::string& name) {
    for (const std::string suffix : {"", "_bucket", "_sum", "_count", "_total"}) {
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            std::string base = name.substr(0, name.size() - suffix.size());
            if (m["families"].contains(base)) {
                return m["families"][base];
            }
        }
    }
    return "";
}

// Metric names an expression of our dashboard reads: identifiers that are not functions,
// keywords, label names or label values, plus the names a {__name__=~"a|b"} matcher lists.
std::set<std::string> metrics_in(const std::string& expr) {
    std::set<std::string> names;
    std::smatch m;
    std::regex by_name(R"re(__name__=~"([^"]+)")re");
    if (std::regex_search(expr, m, by_name)) {
        std::string list = m[1];
        for (size_t start = 0, bar; start <= list.size(); start = bar + 1) {
            bar = list.find('|', start);
            bar = bar == std::string::npos ? list.size() : bar;
            names.insert(list.substr(start, bar - start));
        }
    }
    // Drop label matchers, ranges and grouping clauses, then what is called like a function.
    std::string rest = std::regex_replace(expr, std::regex(R"(\{[^}]*\}|\[[^\]]*\])"), " ");
    rest = std::regex_replace(rest, std::regex(R"(\b(by|without)\s*\([^)]*\))"), " ");
    std::regex ident(R"(([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?)");
    const std::set<std::string> words = {"sum", "max", "min", "avg", "rate", "increase", "by"};
    for (std::sregex_iterator it(rest.begin(), rest.end(), ident), end; it != end; ++it) {
        if ((*it)[2].matched || words.count((*it)[1]) != 0) {
            continue;
        }
        names.insert((*it)[1]);
    }
    return names;
}

void collect_exprs(const json& panels, std::vector<std::string>& out) {
    for (const auto& p : panels) {
        if (p.contains("panels")) {
            collect_exprs(p["panels"], out);
        }
        for (const auto& t : p.value("targets", json::array())) {
            if (t.contains("expr")) {
                out.push_back(t["expr"]);
            }
        }
    }
}

TEST(MoltDashboards, EveryQueriedMetricIsExportedOrDocumentedAsNotApplicable) {
    const int port = 26513;
    Databases db("it_molt_dash",
                 "CREATE TABLE a(id int PRIMARY KEY, v text);"
                 "CREATE TABLE b(id int PRIMARY KEY, v text);");
    harness::Replicator r(db.args({"--metricsAddr", "127.0.0.1:" + std::to_string(port)}),
                          harness::fresh_log("it_molt_dash"));
    ASSERT_TRUE(
        harness::wait_for([&] { return harness::http_get(port, "/_/healthz").first == 200; }, 60s))
        << r.log();

    // Before the first row: the counters and histograms of every replicated table are there,
    // at zero, so rates, error panels and alerts read 0 rather than "no data".
    json before = parse_exposition(harness::http_get(port, "/_/varz").second);
    const std::string schema = "it_molt_dash.public";
    for (const char* table : {"a", "b"}) {
        json labels = {{"schema", schema}, {"table", table}};
        EXPECT_EQ(sample(before, "apply_upserts_total", labels), 0) << table;
        EXPECT_EQ(sample(before, "apply_deletes_total", labels), 0) << table;
        EXPECT_EQ(sample(before, "apply_errors_total", labels), 0) << table;
        EXPECT_EQ(sample(before, "apply_duration_seconds_count", labels), 0) << table;
    }
    EXPECT_EQ(sample(before, "log_message_count", {{"level", "error"}}), 0);
    EXPECT_EQ(sample(before, "core_source_lag_seconds_count"), 0);
    EXPECT_EQ(sample(before, "lockset_retried_tasks_count"), 0);

    for (int i = 0; i < 20; ++i) {
        db.source->exec("INSERT INTO a VALUES (" + std::to_string(i) + ", 'x')");
        db.source->exec("INSERT INTO b VALUES (" + std::to_string(i) + ", 'x')");
    }
    // Each step applied before the next: changes of one key in one target transaction are
    // written once (folded), so the counters would depend on how the steps were grouped.
    ASSERT_TRUE(harness::converges(db, {"a", "b"})) << r.log();
    db.source->exec("UPDATE a SET v = 'y' WHERE id < 5");
    ASSERT_TRUE(harness::converges(db, {"a", "b"})) << r.log();
    db.source->exec("DELETE FROM b WHERE id < 3");
    ASSERT_TRUE(harness::converges(db, {"a", "b"})) << r.log();
    // The counters move just after each target COMMIT returns: wait for the last one.
    json m;
    ASSERT_TRUE(harness::wait_for(
        [&] {
            m = parse_exposition(harness::http_get(port, "/_/varz").second);
            return sample(m, "apply_deletes_total", {{"schema", schema}, {"table", "b"}}) == 3 &&
                   sample(m, "apply_upserts_total", {{"schema", schema}, {"table", "a"}}) == 25;
        },
        30s))
        << r.log();
    r.signal(SIGTERM);
    ASSERT_EQ(r.wait(30s), 0) << r.log();

    // The userscript panels read series that exist with --userscript only: the same stream
    // again, resumed with a script that drops one table's rows and passes the rest.
    std::string script = harness::servers_base() + "/it_molt_dash.ts";
    std::ofstream(script) << "import * as api from \"replicator@v2\";\n"
                             "const keep = (row: any, meta: any) => meta.table === \"b\" ? "
                             "null : row;\n"
                             "api.configureTargetSchema(\"it_molt_dash.public\", "
                             "{onRowUpsert: keep, onRowDelete: keep});\n"
                             "api.configureTargetTables([\"a\"], "
                             "{onWrite: (ops: any) => api.write(ops)});\n";
    harness::Replicator scripted(
        db.args({"--metricsAddr", "127.0.0.1:" + std::to_string(port), "--userscript", script}),
        harness::fresh_log("it_molt_dash_script"));
    ASSERT_TRUE(
        harness::wait_for([&] { return harness::http_get(port, "/_/healthz").first == 200; }, 60s))
        << scripted.log();
    json before_script = parse_exposition(harness::http_get(port, "/_/varz").second);
    EXPECT_EQ(
        sample(before_script, "script_errors_total", {{"table", "a"}, {"function", "onRowUpsert"}}),
        0);
    EXPECT_EQ(sample(before_script, "script_invocations_total",
                     {{"table", "a"}, {"function", "onWrite"}}),
              0);  // table-level handlers' series exist from the start too
    // Every script series is at zero before the first row, so a dashboard shows 0, not "no
    // data".
    for (const char* name : {"script_invocations_total", "script_rows_filtered_total",
                             "script_rows_processed_total", "script_exec_time_seconds_count"}) {
        EXPECT_EQ(sample(before_script, name, {{"table", "b"}, {"function", "onRowDelete"}}), 0)
            << name;
    }
    EXPECT_EQ(sample(before_script, "script_entry_wait_seconds_count"), 0);
    db.source->exec("INSERT INTO a VALUES (100, 'x'); INSERT INTO b VALUES (100, 'x')");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("a WHERE id = 100") == 1; }, 60s))
        << scripted.log();
    json ms = parse_exposition(harness::http_get(port, "/_/varz").second);
    EXPECT_EQ(
        sample(ms, "script_rows_processed_total", {{"table", "a"}, {"function", "onRowUpsert"}}),
        1);
    EXPECT_EQ(sample(ms, "script_rows_filtered_total", {{"table", "b"}}), 1);
    // A batch's calls are counted together: each still one observation of its time.
    EXPECT_EQ(
        sample(ms, "script_exec_time_seconds_count", {{"table", "b"}, {"function", "onRowUpsert"}}),
        1);
    EXPECT_EQ(sample(ms, "script_invocations_total"), 3);  // two rows, one onWrite
    EXPECT_EQ(sample(ms, "script_invocations_total", {{"table", "a"}, {"function", "onWrite"}}), 1);
    EXPECT_EQ(db.target->count("b WHERE id = 100"), 0);
    scripted.signal(SIGTERM);
    EXPECT_EQ(scripted.wait(30s), 0) << scripted.log();
    // A name is exported when one of the two scrapes has it.
    auto in = [&](const std::string& name) -> const json& { return has_sample(m, name) ? m : ms; };

    std::set<std::string> not_applicable = documented_not_applicable();
    ASSERT_FALSE(not_applicable.empty()) << "docs/metrics.md has no table of MOLT metrics that "
                                            "do not apply";
    std::istringstream fixture(read_file("tests/integration/molt_dashboard_metrics.txt"));
    int names = 0;
    for (std::string line; std::getline(fixture, line);) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        ++names;
        std::istringstream fields(line);
        std::string name, type;
        fields >> name >> type;
        SCOPED_TRACE(name);
        if (not_applicable.count(name) != 0) {
            EXPECT_FALSE(has_sample(m, name) || has_sample(ms, name))
                << "exported, yet documented as not applicable";
            continue;
        }
        ASSERT_TRUE(has_sample(in(name), name))
            << "no series, and not documented as not applicable";
        std::string family = family_type(in(name), name);
        if (type == "histogram") {
            EXPECT_EQ(family, "histogram");
        } else if (type == "counter") {
            EXPECT_EQ(family, "counter");
        } else {
            EXPECT_TRUE(family == "gauge" || family == "counter") << family;
        }
    }
    EXPECT_EQ(names, 55);

    // What the series say after this workload.
    EXPECT_EQ(sample(m, "cdc_sink_info"), 1);
    EXPECT_GT(sample(m, "cdc_sink_start_seconds"), 1.7e9);
    EXPECT_GT(sample(m, "log_message_count", {{"level", "info"}}), 0);
    EXPECT_EQ(sample(m, "core_sweep_active_bool", {{"schema", schema}}), 1);
    EXPECT_GE(sample(m, "core_source_lag_seconds_count", {{"schema", schema}}), 42);
    EXPECT_EQ(sample(m, "target_mutations_sent_to_apply_queue"), 48);
    EXPECT_EQ(sample(m, "apply_upserts_total", {{"schema", schema}, {"table", "a"}}), 25);
    EXPECT_GE(sample(m, "source_lag_seconds", {{"kind", "pglogical"}, {"target", schema}}), 0);
    EXPECT_GE(sample(m, "target_lag_seconds", {{"kind", "pglogical"}, {"target", schema}}), 0);
    EXPECT_GE(sample(m, "pool_dial_latency_seconds_count", {{"pool", "target"}}), 1);
    EXPECT_GE(sample(m, "pool_acquired_connection_count", {{"pool", "target"}}) +
                  sample(m, "pool_idle_connection_count", {{"pool", "target"}}),
              1);
    // Each apply connection prepares a statement shape once (a miss), then reuses it (hits);
    // how the rows spread over the 16 connections decides how many of each.
    EXPECT_GE(sample(m, "stmtcache_misses_total"), 1);
    EXPECT_GE(sample(m, "stmtcache_hits_total"), 0);
    EXPECT_GE(
        sample(m, "lockset_immediate_start_count") + sample(m, "lockset_deferred_start_count"), 1);

    // Our own dashboard: every series its panels query is in this scrape.
    json dashboard = json::parse(read_file("dashboards/replicator_grafana_dashboard.json"));
    std::vector<std::string> exprs;
    collect_exprs(dashboard["panels"], exprs);
    ASSERT_GT(exprs.size(), 10u);
    for (const std::string& expr : exprs) {
        std::set<std::string> used = metrics_in(expr);
        EXPECT_FALSE(used.empty()) << expr;
        for (const std::string& name : used) {
            EXPECT_TRUE(has_sample(m, name)) << name << " in " << expr;
        }
    }
}

}  // namespace
