#pragma once

// A stand-in target for the Oracle source's tests: rows by table and key. SQL_REDO text is
// parsed and turned into a mutation by the source's own code (sql_redo.h, redo_mutation.h),
// then applied as the target's upserts and deletes behave: an upsert replaces the columns it
// carries (absent ones keep their value; a new row gets NULL for them) after deleting the old
// key when it carries one that differs; a delete removes the key. text() is comparable with
// Database::state().

#include "source/oracle/redo_mutation.h"

#include "sim_database.h"

#include <map>
#include <string>
#include <vector>

namespace rep::oracle::sim {

// Table name -> its column names (the first is the primary key), or its rows.
using Columns = std::map<std::string, std::vector<std::string>>;
using Rows = std::map<std::string, std::vector<std::vector<Value>>>;

class Target {
public:
    // The first column of each table is its primary key.
    explicit Target(Columns columns);

    // Starts from a snapshot's rows.
    void load(const Rows& rows);
    // Applies one SQL_REDO statement. Throws std::logic_error when an update or delete finds
    // no row.
    void apply(const std::string& sql_redo);
    std::string text() const;

private:
    std::map<std::string, OracleTable> tables_;
    std::map<std::string, std::map<std::string, std::vector<Value>>> rows_;
};

// The columns and committed rows of `owner`'s tables.
Columns columns_of(const Database& db, const std::string& owner);
Rows rows_of(const Database& db, const std::string& owner);

}  // namespace rep::oracle::sim
