#pragma once

// A stand-in target for the Oracle source's tests: rows by table and key, changed as the
// applier changes them (an insert is a full-row upsert, an update sets the listed columns of
// the row its old key names, moving it when the key changes, a delete removes the key), from
// the SQL_REDO text as LogMiner rendered it. text() is comparable with Database::state().

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
    explicit Target(Columns columns) : columns_(std::move(columns)) {}

    // Starts from a snapshot's rows.
    void load(const Rows& rows);
    // Applies one SQL_REDO statement. Throws std::logic_error when an update or delete finds
    // no row.
    void apply(const std::string& sql_redo);
    std::string text() const;

private:
    Columns columns_;
    std::map<std::string, std::map<std::string, std::vector<Value>>> rows_;
};

// The columns and committed rows of `owner`'s tables.
Columns columns_of(const Database& db, const std::string& owner);
Rows rows_of(const Database& db, const std::string& owner);

}  // namespace rep::oracle::sim
