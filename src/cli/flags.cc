#include "cli/flags.h"

#include "base/conninfo.h"

namespace rep::cli {

CLI::Option* add_duration(CLI::App& app, const std::string& name, Duration& target,
                          const std::string& description) {
    auto* opt = app.add_option_function<std::string>(
        name,
        [&target, name](const std::string& text) {
            auto d = parse_go_duration(text);
            if (!d || d->count() < 0) {
                throw CLI::ValidationError(name, "\"" + text +
                                                     "\" is not a duration; use Go syntax such as "
                                                     "250ms, 5s, 1m30s or 24h");
            }
            target = *d;
        },
        description);
    opt->type_name("DURATION");
    opt->default_str(format_go_duration(target));
    return opt;
}

void add_log_flags(CLI::App& app, LogOptions& options) {
    app.add_flag("-v,--verbose", options.verbosity, "Log more: -v for debug, -vv for trace");
    app.add_option("--logFormat", options.format, "Log format: text or fluent (JSON lines)")
        ->check(CLI::IsMember({"text", "fluent"}))
        ->capture_default_str();
    app.add_option("--logDestination", options.destination,
                   "Write logs to this file instead of stdout");
}

CLI::Validator pg_conninfo_check() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            std::string problem = conninfo_problem(value);
            return problem.empty() ? std::string()
                                   : "not a PostgreSQL connection string: " + problem;
        },
        "CONNSTRING");
}

}  // namespace rep::cli
