#pragma once

#include "core/position.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rep::metrics {

// Per-table apply counts, kept for /_/diag (the same numbers as the apply_* counters).
struct TableCounts {
    uint64_t upserts = 0;
    uint64_t deletes = 0;
    uint64_t errors = 0;
};

// The pipeline's instrumentation: the Prometheus metrics MOLT Replicator documents (names and
// labels as its dashboards expect) plus the live state /_/healthz and /_/diag report. The
// source reader and the apply loop call it from their threads; every method is thread-safe
// and cheap (atomics, or a short lock per batch, never per row). No Prometheus type appears
// here, so the pipeline modules do not depend on the metrics library.
class Probe {
public:
    // `schema` labels the apply metrics (the --targetSchema as given), `source` labels
    // mutation_total ("pglogical").
    Probe(std::string schema, std::string source);
    ~Probe();

    // --- source side -------------------------------------------------------------------
    void dial(bool ok);  // START_REPLICATION attempted
    void source_connected(bool connected);
    void mutation(char op);  // 'I', 'U' or 'D' as received
    void unchanged_toast(size_t columns);
    void empty_transaction();
    // A source commit reached the reader (its commit time, microseconds since the epoch).
    void received_commit(int64_t commit_time_us, Ordinal end);
    void received(Ordinal position);  // any message or keepalive from the source

    // --- apply side --------------------------------------------------------------------
    // A batch was written (not yet committed): its duration and the age of its oldest row.
    void wrote_batch(const std::string& table, size_t rows, double seconds,
                     double oldest_age_seconds);
    // Rows that are now committed on the target, per table (apply_upserts/deletes_total).
    void committed_rows(const std::string& table, uint64_t upserts, uint64_t deletes);
    void apply_error(const std::string& table);
    // A value with a time of day went into `column`, a date column of `table`: counts it, and
    // says whether it is the first for that column (the caller warns once).
    bool time_of_day_dropped(const std::string& table, const std::string& column);
    // A target commit covering source transactions committed at these times.
    void committed(int64_t oldest_commit_time_us, int64_t newest_commit_time_us, size_t txns);
    // An apply worker starts (true) or stops (false) working on an item; several may be busy.
    void busy(bool applying);
    // How many apply workers there are (--parallelism): utilization is busy worker-time
    // over workers x time.
    void set_parallelism(size_t workers);
    // How many of them take independent groups now (core_parallelism_limit).
    void set_parallelism_limit(size_t workers);
    // A parallel apply group was handed to a worker (core_parallel_groups_total): with no key
    // in common with any uncommitted group, after one it shares keys with (queued behind its
    // worker, or waiting for a commit), or as a barrier that runs alone.
    // `waited_seconds` is how long it waited for a worker (lockset_exec_wait_seconds).
    enum class GroupPlacement { kIndependent, kAfterConflict, kBarrier };
    void parallel_group(GroupPlacement placement, double waited_seconds);
    // A group waited for its turn to commit (ordered commits) so long that it rolled back to
    // let earlier ones through (core_commit_order_give_ways_total).
    void gave_way();
    // A target transaction failed with a retryable error and is applied again.
    void retried();
    // The target tables the source replicates, known at start: their apply_* series exist
    // from then on, at zero, so rates and error alerts have a value before the first row.
    void declare_tables(const std::vector<std::string>& tables);
    // This process holds the stream's lease and applies (true), or waits as a standby.
    void set_active(bool active);

    // --- userscript (script/script_stage.h) --------------------------------------------
    // The series of one handler (onRowUpsert, onRowDelete) for one source table: MOLT's
    // script_* metrics with labels schema, table, function. Resolved once per table and
    // handler, then passed to script_call for every row.
    struct ScriptSeries;
    ScriptSeries* script_series(const std::string& table, const std::string& function);
    // One handler call: how long it ran, and whether it returned rows, dropped the row, or
    // failed.
    enum class ScriptOutcome { kProcessed, kFiltered, kError };
    void script_call(ScriptSeries* series, double seconds, ScriptOutcome outcome);
    // `processed + filtered` handler calls of `seconds` each (a batch's time shared out),
    // counted at once.
    void script_calls(ScriptSeries* series, double seconds, uint64_t processed, uint64_t filtered);
    // Closes a utilization window (the monitor calls it every second), so that scrapes and
    // snapshots read the same core_parallelism_utilization_percent.
    void tick();

    // --- sampled at scrape time ----------------------------------------------------------
    // What the queue holds: row changes waiting, the capacity in rows, and how full it is,
    // 0..1 (or more, for one oversized item): by rows, or by bytes of values when wide rows
    // fill it first.
    struct QueueSample {
        size_t rows = 0;
        size_t capacity = 1;
        double fill = 0;
    };
    // Sets the function that reports the queue; called by the app, which owns the queue.
    void set_queue_sampler(std::function<QueueSample()> sampler);
    // The confirmed position (Progress), and the position of the last checkpoint written to
    // the memo table.
    void set_confirmed(Ordinal confirmed);
    void set_checkpoint(Ordinal checkpoint);
    // A gauge a source exports about its own positions (pglogical_confirmed_lsn, ...): sampled
    // at each exposition; nullopt leaves it without a sample. `sample` runs on the scraping
    // thread and must be thread-safe. Register before the first exposition.
    void add_gauge(const std::string& name, const std::string& help,
                   std::function<std::optional<double>()> sample);
    // A duration histogram a source exports about its own work
    // (oraclelogminer_time_per_window_seconds, ...), 1 ms to 1 min buckets and no labels;
    // the returned function observes seconds and may be called from any thread. Register
    // before the first exposition.
    std::function<void(double)> add_histogram(const std::string& name, const std::string& help);

    // --- readers -----------------------------------------------------------------------
    std::string exposition(bool with_timestamps = false);
    std::map<std::string, TableCounts> table_counts() const;
    bool is_source_connected() const { return source_connected_.load(); }
    Ordinal received() const { return Ordinal(received_.load()); }
    Ordinal confirmed() const { return Ordinal(confirmed_.load()); }
    Ordinal checkpoint() const { return Ordinal(checkpoint_.load()); }
    // Seconds since the apply loop last committed anything (or since start).
    double seconds_since_last_apply() const;
    // Seconds since the newest source commit that reached the reader.
    double source_lag_seconds() const;
    uint64_t rows_applied() const { return rows_applied_.load(); }
    // Rows written to the target, committed or not (moves during a long transaction).
    uint64_t rows_written() const { return rows_written_.load(); }
    size_t queue_weight() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::atomic<bool> source_connected_{false};
    std::atomic<uint64_t> received_{0};
    std::atomic<uint64_t> confirmed_{0};
    std::atomic<uint64_t> checkpoint_{0};
    std::atomic<int64_t> last_commit_seen_us_{0};
    std::atomic<int64_t> last_apply_steady_ns_{0};
    std::atomic<uint64_t> rows_applied_{0};
    std::atomic<uint64_t> rows_written_{0};
};

// Counts a successful stream start and marks the replication stream connected for its
// lifetime, so /_/healthz sees the stream go away however the reader exits.
class ConnectedStream {
public:
    explicit ConnectedStream(Probe& probe) : probe_(probe) {
        probe_.dial(true);
        probe_.source_connected(true);
    }
    ~ConnectedStream() { probe_.source_connected(false); }
    ConnectedStream(const ConnectedStream&) = delete;
    ConnectedStream& operator=(const ConnectedStream&) = delete;

private:
    Probe& probe_;
};

}  // namespace rep::metrics
