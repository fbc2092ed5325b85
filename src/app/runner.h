#pragma once

#include "app/config.h"
#include "app/source_factory.h"
#include "source/row_stage.h"

#include <nlohmann/json.hpp>

namespace rep::app {

// Runs replication until SIGINT/SIGTERM (docs/architecture.md §3): checks target and staging,
// reads the memo checkpoint, starts the monitor, metrics endpoints and snapshots, then runs
// the pipeline, restarting it from the last committed position after retryable failures.
// `stage`, if given, sees every row change between the source and the queue. Returns the
// exit status; throws rep::Error.
int run_replication(const CommonConfig& config, const SourceConfig& source_config,
                    source::RowStage* stage = nullptr);

// The common settings for /_/diag.
nlohmann::json describe_common(const CommonConfig& c);

}  // namespace rep::app
