#pragma once

#include "app/config.h"
#include "base/log.h"

#include <CLI/CLI.hpp>

namespace rep::cli {

// Flags every replication command shares (target, staging, apply, retries, metrics, logs).
void add_common_flags(CLI::App& app, app::CommonConfig& config, LogOptions& log);

}  // namespace rep::cli
