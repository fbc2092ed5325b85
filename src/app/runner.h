#pragma once

#include "base/duration.h"
#include "core/change_item.h"
#include "core/progress.h"
#include "core/table_name.h"
#include "sequencer/apply_loop.h"
#include "util/bounded_queue.h"
#include "util/retry.h"

#include "metrics/probe.h"
#include "metrics/snapshotter.h"
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>

namespace rep {

// Settings every replication command shares (target, staging, apply, retries, observability).
struct CommonConfig {
    std::string target_conn;
    std::string staging_conn;  // empty: the target
    std::string target_schema;
    std::string staging_schema = "_replicator";
    bool staging_create_schema = false;
    size_t flush_size = 1000;
    Duration flush_period = std::chrono::seconds(1);
    size_t target_apply_queue_size = 10000;
    Duration apply_timeout = std::chrono::seconds(30);
    RetryPolicy retry;
    TruncateMode truncate_mode = TruncateMode::kApply;
    bool collapse_mutations = true;
    size_t timestamp_limit = 1000;  // --timestampLimit
    // Apply connections (--parallelism) and the pool they must fit in (--targetMaxPoolSize);
    // used by sources whose checkpoint supports parallel commits (SourceAdapter).
    size_t parallelism = 1;
    size_t target_max_pool_size = 128;
    bool enable_parallel_applies = false;
    std::filesystem::path data_dir = "replicator-data";
    std::string metrics_addr;  // empty: no HTTP endpoints
    Duration stall_timeout = std::chrono::seconds(20);
    metrics::SnapshotOptions snapshots;  // dir is filled from data_dir
};

// What differs between sources; the runner does everything else.
class SourceAdapter {
public:
    virtual ~SourceAdapter() = default;
    // "pglogical", "mylogical": the metrics label and the first word of log lines.
    virtual std::string name() const = 0;
    virtual std::string memo_key(const SchemaRef& target_schema) const = 0;
    // Checks the source's settings; throws rep::Error with the fix. May be retried.
    virtual void preflight() = 0;
    // Chooses where to start from the memo value (nullopt on a first run); logs it.
    // Throws rep::Error (fatal) if the value cannot be used.
    virtual void choose_start(const std::optional<std::string>& memo_value,
                              const std::string& memo_table) = 0;
    // Reads the source into `queue` until `stop`, resuming after the last transaction
    // `progress` confirms (or from the chosen start if it confirms none). Throws rep::Error.
    virtual void run_reader(BoundedQueue<ChangeItem>& queue, Progress& progress,
                            metrics::Probe& probe, const std::atomic<bool>& stop) = 0;
    // Monitor hook, called from its thread once a second: "" if the source answers, else a
    // one-line problem. May update the probe's source gauges.
    virtual std::string check_source(metrics::Probe& probe) = 0;
    // Source-specific settings for /_/diag (connection strings redacted).
    virtual nlohmann::json describe() const = 0;
    // How the final position is named in the last log line ("LSN 0/1A2B", "GTID set ...").
    virtual std::string describe_position(const Progress& progress) const = 0;
    // Whether positions are stable LSNs that identify a transaction across restarts, which
    // the parallel checkpoint records need (docs/staging.md §4). Otherwise one connection
    // applies and --parallelism is not used.
    virtual bool parallel_apply() const { return false; }
};

// Runs replication for `source` until SIGINT/SIGTERM: checks target and staging, reads the
// memo checkpoint, starts the monitor, metrics endpoints and snapshots, then runs the
// pipeline (reader thread -> bounded queue -> ApplyLoop), restarting it from the last
// committed checkpoint after retryable failures. Returns the exit status; throws rep::Error.
int run_replication(const CommonConfig& config, SourceAdapter& source);

// The common settings for /_/diag.
nlohmann::json describe_common(const CommonConfig& c);

}  // namespace rep
