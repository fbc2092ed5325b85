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

// What ties rows of different keys together on the target, for the parallel apply's conflict
// keys (sequencer/conflict_keys.h): every foreign key with its columns, every unique index
// besides the primary key with its columns, and the tables whose rows are tied in ways not
// told by columns (a unique constraint without an index, an exclusion constraint). Tables
// are spelled "schema.table".
struct ForeignKeyColumns {
    std::string child;   // the referencing table
    std::string parent;  // the referenced one
    std::vector<std::string> child_columns;
    std::vector<std::string> parent_columns;  // in the same order: child_columns[i] refers to [i]
    // Every column pair is of one type and modifier, one whose text form is canonical
    // (integers, text, varchar, uuid, date, bool), and neither has a collation of its own, so
    // values the key finds equal have equal texts.
    bool comparable = true;
};
struct UniqueColumns {
    std::string table;
    std::string index;
    std::vector<std::string> columns;  // its key columns in order; "" for an expression
    // Every column is of a type whose text form is canonical (as above) and neither it nor
    // the index has a collation of its own, so values the index finds equal have equal texts.
    bool comparable = true;
    bool nulls_distinct = true;  // false: NULLS NOT DISTINCT (PostgreSQL 15)
};
struct RowTies {
    std::vector<ForeignKeyColumns> foreign_keys;
    std::vector<UniqueColumns> unique_indexes;
    std::vector<std::string> tied_as_a_whole;
};
RowTies load_row_ties(util::TargetSession& session, const std::string& database = {});

// Every foreign key of the database as (referencing table, referenced table), each spelled
// "schema.table".
std::vector<std::pair<std::string, std::string>> load_foreign_keys(
    util::TargetSession& session, const std::string& database = {});

}  // namespace rep::target
