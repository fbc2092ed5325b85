#include "app/target_preflight.h"

#include "base/error.h"
#include "target/boundary_check.h"
#include "target/catalog_queries.h"
#include "target/schema_report.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace rep::app {

void preflight_target(const CommonConfig& config, util::TargetSession& target,
                      const target::Dialect& dialect, const SchemaRef& target_schema,
                      const source::Source& source) {
    const auto& skip = config.skip_target_checks;
    auto skipped = [&](const char* check) {
        return std::find(skip.begin(), skip.end(), check) != skip.end();
    };
    std::string database = dialect.catalog_database(target_schema);
    std::vector<std::string> problems;
    if (!skipped("schema")) {
        bool cockroach = dialect.product() == target::TargetProduct::kCockroach;
        std::vector<SourceLayout> layouts = source.table_layouts();
        std::vector<std::string> names;
        names.reserve(layouts.size());
        for (const SourceLayout& l : layouts) {
            names.push_back(l.relation->name);
        }
        // Every table in one query, not one round trip (or two) per table.
        auto loaded = target::load_target_tables(target, target_schema, names, database, cockroach);
        auto load = [&](util::TargetSession& s,
                        const TableName& name) -> std::optional<target::TargetTable> {
            if (auto it = loaded.find(name.table); it != loaded.end()) {
                return it->second;
            }
            if (std::find(names.begin(), names.end(), name.table) != names.end()) {
                return std::nullopt;  // asked for above: it does not exist
            }
            return target::load_target_table(s, name, database, cockroach);
        };
        problems = target::check_target_schema(target, dialect, target_schema, layouts, load,
                                               !skipped("types"));
    }
    std::vector<std::string> crossing;
    if (!skipped("cascades")) {
        crossing = target::actions_crossing_the_boundary(
            target::load_referential_actions(target, target_schema.schema, database),
            target_schema.schema, source.table_names());
    }
    if (problems.empty() && crossing.empty()) {
        spdlog::info("target preflight: the {} tables the source sends fit their target tables",
                     source.table_layouts().size());
        return;
    }
    std::string report = fmt::format(
        "the target is not ready for what the source sends ({} "
        "problem{}); nothing was written.",
        problems.size() + crossing.size(), problems.size() + crossing.size() == 1 ? "" : "s");
    for (const std::string& p : problems) {
        report += "\n  - " + p;
    }
    if (!crossing.empty()) {
        report +=
            "\n  - target foreign keys would change rows the source never changed (a source "
            "DELETE, or key change, of a referenced row would also delete or change these rows "
            "on the target):";
        for (const std::string& line : crossing) {
            report += "\n      " + line;
        }
        report +=
            "\n    Replicate those tables too, change the foreign keys to NO ACTION or RESTRICT "
            "(then such a delete fails with an error naming the row instead), or pass "
            "--skipTargetCheck cascades if that is what you want";
    }
    if (!problems.empty()) {
        report +=
            "\nFix these on the target and run the same command again. To start anyway, "
            "--skipTargetCheck schema skips the table checks (each table is checked again at "
            "its first change) and --skipTargetCheck types only the column type checks";
    }
    throw setup_error(report);
}

}  // namespace rep::app
