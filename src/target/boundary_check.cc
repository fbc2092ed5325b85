#include "target/boundary_check.h"

#include "target/catalog_queries.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::target {
namespace {

const char* action_name(char action) {
    switch (action) {
        case 'c':
            return "CASCADE";
        case 'n':
            return "SET NULL";
        case 'd':
            return "SET DEFAULT";
        default:
            return nullptr;
    }
}

}  // namespace

std::vector<ReferentialAction> load_referential_actions(util::TargetSession& session,
                                                        const std::string& schema,
                                                        const std::string& database) {
    static const std::string kSql = R"(
SELECT k.conname, cn.nspname, c.relname, fn.nspname, f.relname,
       k.confdeltype::text, k.confupdtype::text
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE k.contype = 'f' AND fn.nspname = $1
  AND (k.confdeltype IN ('c', 'n', 'd') OR k.confupdtype IN ('n', 'd'))
ORDER BY f.relname, cn.nspname, c.relname, k.conname)";
    std::vector<ReferentialAction> out;
    for (const auto& row : session.query(in_database(kSql, database), {schema})) {
        auto text = [&](size_t col) { return row.at(col).value_or(""); };
        ReferentialAction a;
        a.constraint = text(0);
        a.from_schema = text(1);
        a.from_table = text(2);
        a.to_schema = text(3);
        a.to_table = text(4);
        a.on_delete = text(5).empty() ? 'a' : text(5)[0];
        a.on_update = text(6).empty() ? 'a' : text(6)[0];
        out.push_back(std::move(a));
    }
    return out;
}

std::vector<std::string> actions_crossing_the_boundary(
    const std::vector<ReferentialAction>& actions, const std::string& schema,
    const std::vector<std::string>& replicated) {
    auto is_replicated = [&](const std::string& s, const std::string& t) {
        return s == schema &&
               std::find(replicated.begin(), replicated.end(), t) != replicated.end();
    };
    std::vector<std::string> out;
    for (const ReferentialAction& a : actions) {
        if (!is_replicated(a.to_schema, a.to_table) || is_replicated(a.from_schema, a.from_table)) {
            continue;
        }
        std::string what;
        if (const char* d = action_name(a.on_delete)) {
            what = fmt::format("ON DELETE {}", d);
        }
        if (a.on_update == 'n' || a.on_update == 'd') {
            what +=
                fmt::format("{}ON UPDATE {}", what.empty() ? "" : " ", action_name(a.on_update));
        }
        if (what.empty()) {
            continue;
        }
        out.push_back(fmt::format("{}.{} (not replicated) references {}.{} {} (constraint {})",
                                  a.from_schema, a.from_table, a.to_schema, a.to_table, what,
                                  a.constraint));
    }
    return out;
}

}  // namespace rep::target
