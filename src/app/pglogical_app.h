#pragma once

#include "base/duration.h"
#include "sequencer/apply_loop.h"
#include "util/retry.h"

#include "metrics/snapshotter.h"

#include <filesystem>
#include <string>

namespace rep {

// Everything `replicator pglogical` is configured with; the CLI fills it from flags.
struct PglogicalConfig {
    std::string source_conn;
    std::string target_conn;
    std::string staging_conn;  // empty: the target
    std::string target_schema;
    std::string staging_schema = "_replicator";
    bool staging_create_schema = false;
    std::string slot_name = "replicator";
    std::string publication_name;
    bool create_slot_and_publication = false;
    Duration standby_timeout = std::chrono::seconds(5);
    size_t flush_size = 1000;
    Duration flush_period = std::chrono::seconds(1);
    size_t target_apply_queue_size = 10000;
    Duration apply_timeout = std::chrono::seconds(30);
    RetryPolicy retry;
    TruncateMode truncate_mode = TruncateMode::kApply;
    std::filesystem::path data_dir = "replicator-data";
    bool allow_streaming = true;

    // Observability (docs/metrics.md).
    std::string metrics_addr;  // empty: no HTTP endpoints
    Duration stall_timeout = std::chrono::seconds(20);
    metrics::SnapshotOptions snapshots;  // dir is filled from data_dir
};

// Composition root of `replicator pglogical`: checks source and staging, then runs the
// pipeline (WalReader thread -> bounded queue -> ApplyLoop) until a signal, restarting it
// from the last committed checkpoint after retryable failures. Returns the exit status.
int run_pglogical(const PglogicalConfig& config);

}  // namespace rep
