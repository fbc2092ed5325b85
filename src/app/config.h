#pragma once

#include "base/duration.h"
#include "sequencer/apply_context.h"
#include "util/retry.h"

#include "metrics/snapshotter.h"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace rep::app {

// The settings every replication command shares: target, staging, apply, retries and
// observability (cli/common_flags.h defines their flags).
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
    util::RetryPolicy retry;
    sequencer::TruncateMode truncate_mode = sequencer::TruncateMode::kApply;
    // Start-up checks of the target the operator chose to skip (--skipTargetCheck).
    std::vector<std::string> skip_target_checks;
    bool collapse_mutations = true;
    size_t timestamp_limit = 1000;              // --timestampLimit
    size_t target_max_message_bytes = 8 << 20;  // --targetMaxMessageBytes
    // Apply connections (--parallelism, MOLT Replicator's default) and the pool they must fit
    // in (--targetMaxPoolSize).
    size_t parallelism = 16;
    size_t target_max_pool_size = 128;
    bool enable_parallel_applies = false;
    // --fixedParallelism: every worker takes independent groups, instead of a number adapted
    // to the commit rate (sequencer/worker_limit.h).
    bool fixed_parallelism = false;
    // --unorderedCommits (pglogical): independent target transactions may commit out of source
    // order; needs a source whose positions allow out-of-order checkpoints (stable ordinals).
    bool unordered_commits = false;
    std::filesystem::path data_dir = "replicator-data";
    std::string metrics_addr;  // empty: no HTTP endpoints
    Duration stall_timeout = std::chrono::seconds(20);
    // --leaseTTL: how long the stream's lease lasts unrenewed (staging/lease.h).
    Duration lease_ttl = std::chrono::seconds(10);
    metrics::SnapshotOptions snapshots;  // dir is filled from data_dir
    // --showRowContentsInErrors: server error texts keep their row values (util/row_contents.h).
    bool show_row_contents = false;
    // --diagShowHosts: /_/diag and /_/healthz name users and hosts (app/monitor.h).
    bool diag_show_hosts = false;
    // --userscript: a TypeScript or JavaScript file of handlers (script/userscript.h).
    std::string userscript;
};

}  // namespace rep::app
