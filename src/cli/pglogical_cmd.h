#pragma once

#include "app/pglogical_app.h"
#include "base/log.h"

#include <CLI/CLI.hpp>

namespace rep::cli {

// Flags every replication command shares (target, staging, apply, retries, metrics, logs).
void add_common_flags(CLI::App& app, CommonConfig& config, LogOptions& log);

// Registers `replicator pglogical` and its flags (names and defaults as MOLT Replicator
// documents them) on `parent`, filling `config` and `log`.
CLI::App* add_pglogical_command(CLI::App& parent, PglogicalConfig& config, LogOptions& log);

}  // namespace rep::cli
