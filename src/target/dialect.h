#pragma once

#include "core/table_name.h"
#include "target/target_table.h"

#include <string>
#include <utility>
#include <vector>

namespace rep::target {

enum class TargetProduct { kPostgres, kCockroach };

// The SQL that differs between target products. Every statement takes whole columns as text[]
// parameters and unnests them, so one prepared statement per table and column set serves any
// batch size, and every value is cast from its text form to the target column's type.
class Dialect {
public:
    explicit Dialect(TargetProduct product) : product_(product) {}
    TargetProduct product() const { return product_; }
    const char* name() const {
        return product_ == TargetProduct::kCockroach ? "CockroachDB" : "PostgreSQL";
    }
    // CockroachDB can name another database in one transaction; PostgreSQL cannot.
    bool qualify_database() const { return product_ == TargetProduct::kCockroach; }
    // The database whose catalog describes tables in `schema` (catalog_queries.h): the one it
    // names on CockroachDB, else the connection's own (PostgreSQL checks they are the same).
    std::string catalog_database(const SchemaRef& schema) const {
        return qualify_database() ? schema.database : std::string();
    }

    // Upsert of rows carrying the columns `cols` (indexes into t.columns; must include the
    // primary key). Parameter $i+1 is the text[] of column cols[i].
    std::string upsert(const TargetTable& t, const std::vector<size_t>& cols) const;
    // Delete by primary key; parameter $i+1 is the text[] of primary key column i.
    std::string delete_by_pk(const TargetTable& t) const;
    // Moves rows to new primary keys in place: sets the columns `cols` (which include the
    // key) of the row found by its old key, leaving the others as they are. Parameters: the
    // text[] of each column in `cols`, then one per primary key column with the old key.
    std::string move_by_pk(const TargetTable& t, const std::vector<size_t>& cols) const;
    // Foreign keys as (referencing table, referenced table), each "schema.table"
    // (load_foreign_keys()).
    using ForeignKeys = std::vector<std::pair<std::string, std::string>>;

    // Empties the tables, in one statement where the product allows it. On CockroachDB, whose
    // TRUNCATE is not transactional, one DELETE per table, children before parents as
    // `foreign_keys` says; throws rep::Error (fatal) if a table outside `tables` references
    // one of them, where PostgreSQL's TRUNCATE would refuse and a DELETE could cascade into
    // it.
    std::vector<std::string> truncate(const std::vector<const TargetTable*>& tables, bool cascade,
                                      bool restart_identity,
                                      const ForeignKeys& foreign_keys = {}) const;

    // The SQL written for column `c` whose text is `ref`: `ref` cast to the column's type, or
    // the column's expr with every $0 standing for that.
    static std::string written_value(const TargetColumn& c, const std::string& ref);

private:
    std::string unnest_select(const TargetTable& t, const std::vector<size_t>& cols) const;

    TargetProduct product_;
};

// Detects the product from `SELECT version()`.
TargetProduct detect_product(const std::string& version_string);

}  // namespace rep::target
