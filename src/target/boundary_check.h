#pragma once

#include "util/target_session.h"

#include <string>
#include <vector>

namespace rep::target {

// A foreign key on the target whose action changes the referencing rows when a referenced row
// is deleted or its key changes: ON DELETE CASCADE / SET NULL / SET DEFAULT, ON UPDATE SET
// NULL / SET DEFAULT. (ON UPDATE CASCADE only keeps a reference pointing at the same row.)
struct ReferentialAction {
    std::string constraint;
    std::string from_schema;
    std::string from_table;
    std::string to_schema;
    std::string to_table;
    char on_delete = 'a';  // pg_constraint.confdeltype: a, r, c, n, d
    char on_update = 'a';  // pg_constraint.confupdtype
};

// The foreign keys with such actions that reference a table in `schema`.
// `database`: whose catalog to read, empty for the current one (catalog_queries.h).
std::vector<ReferentialAction> load_referential_actions(util::TargetSession& session,
                                                        const std::string& schema,
                                                        const std::string& database = {});

// The replication boundary: rows of the tables the source sends (`replicated`, bare names in
// `schema`) are deleted and re-keyed on the target as on the source, and the source sends
// what its own foreign keys did too. An action reaching a target table outside that set
// would delete or change its rows without the source having done so. Returns one line per
// such foreign key, naming both tables and the action; empty if there is none.
std::vector<std::string> actions_crossing_the_boundary(
    const std::vector<ReferentialAction>& actions, const std::string& schema,
    const std::vector<std::string>& replicated);

}  // namespace rep::target
