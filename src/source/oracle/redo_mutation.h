#pragma once

#include "core/mutation.h"
#include "source/oracle/sql_redo.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rep::oracle {

// A replicated table as the source's catalog describes it (ALL_TAB_COLUMNS, the primary
// key's ALL_CONS_COLUMNS): columns in table order with their Oracle type (DATA_TYPE, such
// as "NUMBER", "BINARY_DOUBLE", "TIMESTAMP(6) WITH TIME ZONE").
struct OracleColumn {
    std::string name;
    std::string type;
    bool key = false;
};

struct OracleTable {
    std::string schema;  // Oracle's names
    std::string name;
    std::vector<std::string> columns;
    // Named for the target (fold_name), columns in the same order.
    std::shared_ptr<const Relation> relation;
    std::vector<std::string> types;  // per column
};

// The target's spelling of an Oracle identifier, as PostgreSQL folds unquoted names: an all
// upper-case name (Oracle's default for unquoted identifiers) in lower case, any other name
// (created quoted, such as "camelCase") as it is.
std::string fold_name(const std::string& oracle_name);

// Builds the table `schema`.`name` from Oracle's names. Throws rep::Error (fatal) for a table
// without a primary key: its changes could not be applied by key.
OracleTable make_table(const std::string& schema, const std::string& name,
                       const std::vector<OracleColumn>& columns);

// Where a statement came from, for messages.
struct RedoOrigin {
    uint64_t scn = 0;
    std::string xid;
};

// The mutation of one SQL_REDO statement of `table` (reference §3.4, "Target writes"):
//  - insert: an upsert of the whole row (a column the statement leaves out is NULL);
//  - update: an upsert of the key and the columns the statement sets, the others absent (kept
//    as they are on the target); the key comes from the WHERE clause (the supplementally
//    logged primary key) and is the old key the apply side compares with, so a key change
//    deletes the old row first. The new row must then be whole: every column set, or
//    before-imaged in the WHERE clause (supplemental logging of all columns), else the
//    change is refused with that fix;
//  - delete: a delete by the key in the WHERE clause.
// Values become the text the target parses (redo_values.h), with BINARY_FLOAT and
// BINARY_DOUBLE's special values spelled as PostgreSQL spells them. Throws rep::Error
// (fatal) naming the table, column, SCN and transaction for a column the table does not have
// (DDL during replication), a WHERE clause without the whole primary key, or a value that
// cannot be read.
Mutation to_mutation(const RedoStatement& statement, const OracleTable& table,
                     const RedoOrigin& origin);

}  // namespace rep::oracle
