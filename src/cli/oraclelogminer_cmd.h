#pragma once

#include "app/config.h"
#include "base/log.h"
#include "source/oracle/oracle_source.h"

#include <CLI/CLI.hpp>

namespace rep::cli {

// What `replicator oraclelogminer` is run with.
struct OraclelogminerCommand {
    app::CommonConfig common;
    oracle::OracleConfig source;
};

// Registers `replicator oraclelogminer` and its flags (names and defaults as MOLT Replicator
// documents them) on `parent`, filling `command` and `log`.
CLI::App* add_oraclelogminer_command(CLI::App& parent, OraclelogminerCommand& command,
                                     LogOptions& log);

}  // namespace rep::cli
