#pragma once

#include "core/table_name.h"
#include "target/target_table.h"
#include "util/target_session.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rep::target {

// The catalog queries read pg_catalog, which PostgreSQL and CockroachDB both provide, of the
// connection's current database; CockroachDB can read another's as "db".pg_catalog.
// `database` names that database, or is empty for the current one (Dialect::catalog_database).

// `sql` with each of its pg_class, pg_namespace, pg_attribute, pg_type, pg_index,
// pg_constraint and pg_collation read from `database`'s pg_catalog (unchanged if `database`
// is empty).
std::string in_database(const std::string& sql, const std::string& database);

// Reads a table's layout. Returns nullopt if the table does not exist. `cockroach`: the target
// is CockroachDB, whose hidden key columns are left out of the key (TargetTable::implicit_key).
std::optional<TargetTable> load_target_table(util::TargetSession& session, const TableName& name,
                                             const std::string& database = {},
                                             bool cockroach = false);

// Reads the layouts of `tables` of `schema`, in one query for all (three at most), by table
// name; a table that does not exist has no entry. `cockroach` as for load_target_table.
std::map<std::string, TargetTable> load_target_tables(util::TargetSession& session,
                                                      const SchemaRef& schema,
                                                      const std::vector<std::string>& tables,
                                                      const std::string& database = {},
                                                      bool cockroach = false);

// Every foreign key of the database as (referencing table, referenced table), each spelled
// "schema.table".
std::vector<std::pair<std::string, std::string>> load_foreign_keys(
    util::TargetSession& session, const std::string& database = {});

}  // namespace rep::target
