#pragma once

#include "core/table_name.h"

#include <optional>
#include <string>
#include <vector>

namespace rep::target {

struct TargetColumn {
    std::string name;
    // The type values are cast to, without length/precision modifiers, so that a value that
    // does not fit the column fails on assignment instead of being silently truncated by an
    // explicit cast (e.g. varchar(5), char(5) or bit(3)); followed by COLLATE <name> for a
    // column with a collation of its own.
    std::string cast_type;
    bool generated = false;        // computed column: never written
    bool date = false;             // of type date: a time of day written to it is dropped
    bool identity_always = false;  // GENERATED ALWAYS AS IDENTITY: needs OVERRIDING SYSTEM VALUE
    int pk_position = 0;           // 1-based position in the primary key, 0 if not in it
    // A userscript's SQL for the value written (MOLT's `exprs`), `$0` standing for the value
    // (Dialect::written_value); "" writes the value as it is.
    std::string expr;
};

// Where the next `$0` of an `expr`, at or after `from`, stands for the value ("$01" would be
// another placeholder), or npos. An expr without one is a constant, written whether or not
// the source has the column.
size_t find_value_placeholder(const std::string& expr, size_t from = 0);

// A target table's columns as its catalog describes them (catalog_queries.h), read once per
// table and again when the source announces a new layout for it.
struct TargetTable {
    TableName name;
    std::vector<TargetColumn> columns;  // in the table's column order
    std::vector<size_t> pk;             // indexes into `columns`, in primary key order
    // Hidden primary key columns that CockroachDB fills in itself and that are therefore not
    // part of `pk`, the key the source supplies: a hash-sharded key's
    // crdb_internal_<cols>_shard_<n> (computed from the other key columns), a REGIONAL BY ROW
    // table's crdb_region (a default), a table without a primary key's rowid (a default).
    std::vector<std::string> implicit_key;
    // Whether the order of row changes within one target transaction can matter beyond each
    // key's own order: the table references or is referenced by a foreign key, or has a
    // unique index besides the primary key.
    bool order_sensitive = false;
    // Whether it has a unique index besides the primary key, a unique constraint or an
    // exclusion constraint: checked as each row is written, not at the statement's end (as a
    // foreign key is), so even the order of rows within one statement matters.
    bool unique_constrained = false;

    std::optional<size_t> find(const std::string& column) const;
    bool has_identity_always() const;
};

}  // namespace rep::target
