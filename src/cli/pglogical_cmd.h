#pragma once

#include "app/config.h"
#include "base/log.h"
#include "source/postgres/pglogical_source.h"

#include <CLI/CLI.hpp>

namespace rep::cli {

// What `replicator pglogical` is run with.
struct PglogicalCommand {
    app::CommonConfig common;
    pg::PglogicalConfig source;
};

// Registers `replicator pglogical` and its flags (names and defaults as MOLT Replicator
// documents them) on `parent`, filling `command` and `log`.
CLI::App* add_pglogical_command(CLI::App& parent, PglogicalCommand& command, LogOptions& log);

}  // namespace rep::cli
