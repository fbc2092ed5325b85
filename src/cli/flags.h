#pragma once

#include "base/duration.h"
#include "base/log.h"

#include <CLI/CLI.hpp>

#include <string>

namespace rep::cli {

// Adds a flag taking a Go-syntax duration ("250ms", "1m0s"); bad values are reported by CLI11
// as a parse error naming the flag (exit status 2). The default is shown in Go's format.
CLI::Option* add_duration(CLI::App& app, const std::string& name, Duration& target,
                          const std::string& description);

// Checks that a flag's value is a PostgreSQL connection string (conninfo_problem) before
// anything connects, naming the flag and never repeating the value (exit status 2).
CLI::Validator pg_conninfo_check();

// -v/--verbose (count), --logFormat, --logDestination: shared by every replication command.
void add_log_flags(CLI::App& app, LogOptions& options);

}  // namespace rep::cli
