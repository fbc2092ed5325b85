#pragma once

#include "app/config.h"
#include "base/log.h"
#include "source/mysql/mylogical_source.h"

#include <CLI/CLI.hpp>

namespace rep::cli {

// What `replicator mylogical` is run with.
struct MylogicalCommand {
    app::CommonConfig common;
    mysql::MylogicalConfig source;
};

// Registers `replicator mylogical` and its flags (names and defaults as MOLT Replicator
// documents them) on `parent`, filling `command` and `log`.
CLI::App* add_mylogical_command(CLI::App& parent, MylogicalCommand& command, LogOptions& log);

}  // namespace rep::cli
