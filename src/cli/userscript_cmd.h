#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace rep::cli {

// What `replicator userscript` is run with: tools for writing a --userscript, which connect
// to nothing.
struct UserscriptCommand {
    bool api = false;           // --api: print the API's TypeScript declarations
    std::string check;          // --check FILE: load the script and report
    std::string target_schema;  // --targetSchema: with --check, the schema it must configure
};

// Registers `replicator userscript` on `parent`.
CLI::App* add_userscript_command(CLI::App& parent, UserscriptCommand& command);

// Runs it: prints to stdout; throws rep::Error (exit status 2) for a script that cannot run.
int run_userscript_command(const UserscriptCommand& command);

}  // namespace rep::cli
