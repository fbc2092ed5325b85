#pragma once

#include "app/mylogical_app.h"
#include "base/log.h"

#include <CLI/CLI.hpp>

namespace rep::cli {

// Registers `replicator mylogical` and its flags (names and defaults as MOLT Replicator
// documents them) on `parent`.
CLI::App* add_mylogical_command(CLI::App& parent, MylogicalConfig& config, LogOptions& log);

}  // namespace rep::cli
