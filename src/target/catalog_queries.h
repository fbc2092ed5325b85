#pragma once

#include "core/table_name.h"
#include "target/target_table.h"
#include "util/target_session.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rep::target {

// Reads a table's layout from pg_catalog (PostgreSQL and CockroachDB both provide it).
// Returns nullopt if the table does not exist.
std::optional<TargetTable> load_target_table(util::TargetSession& session, const TableName& name);

// Every foreign key of the database as (referencing table, referenced table), each spelled
// "schema.table".
std::vector<std::pair<std::string, std::string>> load_foreign_keys(util::TargetSession& session);

}  // namespace rep::target
