#include "cli/userscript_cmd.h"

#include "base/error.h"

#include "script/embedded_js.h"
#include "script/userscript.h"
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

namespace rep::cli {

CLI::App* add_userscript_command(CLI::App& parent, UserscriptCommand& c) {
    CLI::App* cmd = parent.add_subcommand(
        "userscript", "Tools for --userscript files; connects to nothing (docs/userscripts.md)");
    cmd->add_flag("--api", c.api,
                  "Print the TypeScript declarations of \"replicator@v2\" and \"replicator@v1\" "
                  "for editors");
    cmd->add_option("--check", c.check,
                    "Load FILE as --userscript would (type stripping, imports, top level) and "
                    "report its errors with file, line and column, or the schemas it configures")
        ->type_name("FILE");
    cmd->add_option("--targetSchema", c.target_schema,
                    "With --check: the --targetSchema the script must configure");
    cmd->require_option(1, 2);
    return cmd;
}

int run_userscript_command(const UserscriptCommand& c) {
    if (c.api) {
        std::cout << script::kApiDeclarations;
    }
    if (c.check.empty()) {
        if (!c.target_schema.empty()) {
            throw setup_error("--targetSchema goes with --check FILE");
        }
        return 0;
    }
    script::Userscript loaded(script::UserscriptOptions{c.check});
    std::vector<std::string> schemas = loaded.configured_schemas();
    std::vector<std::string> configured_tables = loaded.configured_table_names();
    // As the replicator judges it at start (app/runner.cc): a script of table-level
    // configuration only needs no schema.
    if (!c.target_schema.empty() &&
        std::find(schemas.begin(), schemas.end(), c.target_schema) == schemas.end() &&
        (!schemas.empty() || configured_tables.empty())) {
        throw setup_error(
            fmt::format("{} does not configure --targetSchema \"{}\"", c.check, c.target_schema));
    }
    std::string names;
    for (const std::string& s : schemas) {
        names += (names.empty() ? "\"" : ", \"") + s + "\"";
    }
    std::string tables;
    for (const std::string& t : configured_tables) {
        tables += (tables.empty() ? "\"" : ", \"") + t + "\"";
    }
    std::cout << fmt::format("{}: loads; configureTargetSchema for {}{}\n", c.check,
                             names.empty() ? "no schema" : names,
                             tables.empty() ? "" : "; tables " + tables);
    return 0;
}

}  // namespace rep::cli
