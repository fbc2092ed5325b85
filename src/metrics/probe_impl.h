#pragma once

// Inside the metrics module only: the Prometheus families behind Probe. probe.cc updates the
// pipeline's metrics, conn_metrics.cc the connections' (pool_*, stmtcache_*), and
// process_metrics.cc samples the process and the log at each exposition.

#include "util/conn_observer.h"

#include "metrics/probe.h"

#include <array>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <set>
#include <vector>

namespace rep::metrics {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Log-spaced from 1 ms to 1 min, as the original's histograms.
inline const Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60};
// Lag and age: 10 ms to a day.
inline const Histogram::BucketBoundaries kLagBuckets = {
    0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 7200, 86400};

int64_t now_us();
int64_t steady_ns();

inline Family<Counter>& counter(prometheus::Registry& r, const std::string& name,
                                const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
inline Family<Gauge>& gauge(prometheus::Registry& r, const std::string& name,
                            const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
inline Family<Histogram>& histogram(prometheus::Registry& r, const std::string& name,
                                    const std::string& help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

struct Probe::ScriptSeries {
    Counter* invocations;
    Counter* filtered;
    Counter* processed;
    Counter* errors;
    Histogram* exec;
    Histogram* wait;
};

struct Probe::Impl final : util::ConnObserver {
    Impl(std::string schema_label, std::string source_name);
    ~Impl() override;

    std::string schema;
    std::string source;
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    prometheus::Registry& r = *registry;

    // --- apply, per table (created for every replicated table at start: declare_tables) ----
    Family<Counter>& upserts = counter(r, "apply_upserts_total", "Rows upserted on the target");
    Family<Counter>& deletes = counter(r, "apply_deletes_total", "Rows deleted on the target");
    Family<Counter>& errors = counter(r, "apply_errors_total", "Target apply errors");
    Family<Counter>& times_dropped =
        counter(r, "apply_time_of_day_dropped_total",
                "Values with a time of day written into a date column, which keeps the date only");
    Family<Histogram>& apply_duration =
        histogram(r, "apply_duration_seconds", "Time to apply a batch of rows to a table");
    Family<Histogram>& mutation_age =
        histogram(r, "target_apply_mutation_age_seconds",
                  "Source commit to target write, per applied batch (its oldest row)");
    // MOLT's older name for the same observations, still read by its repository's dashboard.
    Family<Histogram>& mutation_age_old =
        histogram(r, "apply_mutation_age_seconds",
                  "Source commit to target write, per applied batch (its oldest row)");

    // --- source ------------------------------------------------------------------------
    Family<Counter>& mutations =
        counter(r, "mutation_total", "Row changes received from the source");
    Counter& sent_to_queue = counter(r, "target_mutations_sent_to_apply_queue",
                                     "Row changes the source reader sent to the apply queue")
                                 .Add({});
    // Named after the source (pglogical_dial_success_total, mylogical_dial_success_total...).
    Family<Counter>* dial_ok = nullptr;
    Family<Counter>* dial_fail = nullptr;
    Family<Counter>* empty_txns = nullptr;
    Family<Counter>* toasted = nullptr;
    Counter* inserts = nullptr;  // mutation_total children, resolved once: a labelled Add()
    Counter* updates = nullptr;  // is a locked hash lookup, and mutation() runs for every row
    Counter* deletes_seen = nullptr;

    // --- lag ---------------------------------------------------------------------------
    Family<Histogram>& source_lag =
        histogram(r, "core_source_lag_seconds",
                  "Source commit to the reader receiving the commit, per source transaction");
    Family<Histogram>& commit_to_apply =
        histogram(r, "source_commit_to_apply_lag_seconds",
                  "Source commit to target commit, per target transaction (oldest source commit)");
    Family<Histogram>& txn_lag =
        histogram(r, "target_apply_transaction_lag_seconds",
                  "Source commit to target commit, per target transaction (newest source commit)");
    // MOLT's conveyor gauges {kind, target}: the last value of the two lags above.
    Family<Gauge>& source_lag_last =
        gauge(r, "source_lag_seconds", "Source commit to receipt of the newest source commit");
    Family<Gauge>& target_lag_last =
        gauge(r, "target_lag_seconds", "Source commit to target commit of the newest applied");
    Family<Gauge>& since_apply =
        gauge(r, "target_seconds_since_last_apply",
              "Seconds since the last successful target commit (or since start)");

    // --- queue and scheduling ------------------------------------------------------------
    Family<Gauge>& queue_size =
        gauge(r, "target_apply_queue_size", "Row changes waiting in the apply queue");
    Family<Gauge>& queue_util = gauge(r, "target_apply_queue_utilization_percent",
                                      "Share of --targetApplyQueueSize in use");
    Family<Gauge>& parallelism = gauge(r, "core_parallelism_utilization_percent",
                                       "Share of the apply workers' time spent applying");
    Family<Counter>& parallel_groups =
        counter(r, "core_parallel_groups_total",
                "Target transactions handed to parallel apply workers, by how they were placed");
    Gauge& parallelism_limit = gauge(r, "core_parallelism_limit",
                                     "Apply workers that take groups free to go anywhere "
                                     "(adapted to the commit rate, at most --parallelism)")
                                   .Add({});
    Counter& give_ways = counter(r, "core_commit_order_give_ways_total",
                                 "Target transactions rolled back and applied again because "
                                 "they waited too long for earlier ones to commit")
                             .Add({});
    Counter* groups_independent = nullptr;  // set by set_parallelism(N > 1)
    Counter* groups_after_conflict = nullptr;
    Counter* groups_barrier = nullptr;
    // MOLT's scheduler lock set {set="scheduler"}: how target transactions got a worker.
    const prometheus::Labels scheduler{{"set", "scheduler"}};
    Counter& lockset_immediate =
        counter(r, "lockset_immediate_start_count",
                "Target transactions that went to a worker at once (no conflict)")
            .Add(scheduler);
    Counter& lockset_deferred =
        counter(r, "lockset_deferred_start_count",
                "Target transactions that waited for a conflicting or earlier one")
            .Add(scheduler);
    Counter& lockset_retried =
        counter(r, "lockset_retried_tasks_count", "Target transactions retried").Add(scheduler);
    Histogram& lockset_wait =
        histogram(r, "lockset_exec_wait_seconds", "Time a target transaction waited for a worker")
            .Add(scheduler, kLatencyBuckets);
    // The stream's lease (staging.md §8), under the names MOLT's "Sweepers" panel reads.
    Family<Gauge>& sweep_active =
        gauge(r, "core_sweep_active_bool", "1 while this process applies the stream");
    Family<Gauge>& sweep_lease =
        gauge(r, "core_sweep_table_lease_held_bool", "1 while this process holds the lease");

    // --- userscript -------------------------------------------------------------------------
    Family<Counter>& script_invocations =
        counter(r, "script_invocations_total", "Userscript handler calls");
    Family<Counter>& script_filtered =
        counter(r, "script_rows_filtered_total", "Rows a userscript handler dropped");
    Family<Counter>& script_processed =
        counter(r, "script_rows_processed_total", "Rows a userscript handler passed on");
    Family<Counter>& script_errors =
        counter(r, "script_errors_total", "Userscript handler calls that failed");
    Family<Histogram>& script_exec =
        histogram(r, "script_exec_time_seconds", "Time one userscript handler call ran");
    Family<Histogram>& script_wait = histogram(r, "script_entry_wait_seconds",
                                               "Time a row waited before its handler call started");
    std::mutex script_mu;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<ScriptSeries>> script_series;

    // --- connections (conn_metrics.cc) ----------------------------------------------------
    Family<Gauge>& pool_acquired = gauge(r, "pool_acquired_connection_count",
                                         "Connections running a statement or in a transaction");
    Family<Gauge>& pool_idle =
        gauge(r, "pool_idle_connection_count", "Connections open and doing nothing");
    Family<Counter>& pool_wait = counter(r, "pool_acquire_wait_seconds",
                                         "Seconds spent waiting for connections to be opened");
    Family<Histogram>& pool_dial =
        histogram(r, "pool_dial_latency_seconds", "Time to open one connection");
    Family<Counter>& pool_dial_ok = counter(r, "pool_dial_success_count", "Connections opened");
    Family<Counter>& pool_dial_err =
        counter(r, "pool_dial_error_count", "Connection attempts that failed");
    Counter& stmt_hits =
        counter(r, "stmtcache_hits_total", "Statements found prepared on their connection").Add({});
    Counter& stmt_misses =
        counter(r, "stmtcache_misses_total", "Statements prepared on their connection first")
            .Add({});
    void dialed(const std::string& pool, double seconds, bool ok) override;
    void state_changed(const std::string& pool, int open_delta, int acquired_delta) override;
    void statement_cache(bool hit) override;
    struct PoolCounts {
        int64_t open = 0;
        int64_t acquired = 0;
    };
    std::mutex pools_mu;
    std::map<std::string, PoolCounts> pools;
    void add_pool(const std::string& pool);  // with pools_mu held

    // --- process and log (process_metrics.cc) ---------------------------------------------
    Family<Gauge>& build_info =
        gauge(r, "replicator_build_info", "Build information; the value is always 1");
    Family<Gauge>& sink_info =
        gauge(r, "cdc_sink_info", "Build information, as MOLT names it; the value is 1");
    Family<Gauge>& sink_start =
        gauge(r, "cdc_sink_start_seconds", "Start time of the process, Unix seconds");
    Family<Counter>& log_count = counter(r, "log_message_count", "Log records written, by level");
    std::array<Counter*, 6> log_counters{};
    std::array<uint64_t, 6> log_reported{};
    Counter& cpu_total =
        counter(r, "process_cpu_seconds_total", "User and system CPU time spent, in seconds")
            .Add({});
    double cpu_reported = 0;
    Family<Gauge>& rss = gauge(r, "process_resident_memory_bytes", "Resident memory size in bytes");
    Family<Gauge>& vmem = gauge(r, "process_virtual_memory_bytes", "Virtual memory size in bytes");
    Family<Gauge>& fds = gauge(r, "process_open_fds", "Number of open file descriptors");
    Family<Gauge>& max_fds = gauge(r, "process_max_fds", "Maximum number of open file descriptors");
    Family<Gauge>& start_time = gauge(r, "process_start_time_seconds",
                                      "Start time of the process since the Unix epoch, in seconds");
    void init_process();    // the build and start series, the log levels at zero
    void sample_process();  // at each exposition

    // --- live state ----------------------------------------------------------------------
    std::mutex mu;  // guards tables, the busy accounting and the samplers
    std::map<std::string, TableCounts> tables;
    std::set<std::pair<std::string, std::string>> times_dropped_seen;  // (table, column)
    std::function<Probe::QueueSample()> queue_sampler;
    // Apply utilization: the integral of busy workers over time, against slots x window.
    int64_t active = 0;
    int64_t slots = 1;
    int64_t last_change_ns = steady_ns();
    int64_t busy_ns = 0;
    int64_t window_start_ns = steady_ns();
    void close_window();  // sets core_parallelism_utilization_percent, starts the next window
    // Gauges the source registered, sampled at each exposition.
    struct SourceGauge {
        Family<Gauge>* family;
        std::function<std::optional<double>()> sample;
    };
    std::vector<SourceGauge> source_gauges;

    prometheus::Labels table_labels(const std::string& table) const {
        return {{"schema", schema}, {"table", table}};
    }
    prometheus::Labels schema_labels() const { return {{"schema", schema}}; }
    prometheus::Labels conveyor_labels() const { return {{"kind", source}, {"target", schema}}; }
};

}  // namespace rep::metrics
