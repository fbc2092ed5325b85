#pragma once

#include "core/mutation.h"
#include "target/target_table.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rep::target {

// What a userscript (MOLT's API v1, configureTable) says about a table's columns.
struct ColumnRules {
    // Source columns never written (MOLT's `ignore`), by the names the script sees. Here only
    // those the target lacks count (a column the target dropped is then no drift): the ones
    // it has are left out of what the table-level handler answers, so the handler sees them.
    std::vector<std::string> ignore;
    // A target column (JSON or JSONB) that receives the source columns the target lacks, as
    // one JSON object of their texts (MOLT's `extras`); empty: such columns are drift.
    std::string extras;
    // Target column -> the SQL its written value is computed with, `$0` standing for the
    // value (MOLT's `exprs`); set on the table's columns by apply_exprs().
    std::map<std::string, std::string> exprs;
};

// Sets `exprs` (ColumnRules) on the columns of `table`. Throws rep::Error (fatal) for a
// column the table lacks, a generated one, or one of its primary key: rows are deleted and
// moved by the key values the source sends, which would then differ from those written.
void apply_exprs(TargetTable& table, const std::map<std::string, std::string>& exprs);

// How one source relation layout maps onto its target table: columns match by name; target
// columns the source lacks keep their defaults; generated target columns are never written.
// Built once per (relation version, target table) and immutable afterwards.
class TableMapping {
public:
    // Throws rep::Error (fatal) if a source column has no target column ("schema drift") and
    // `rules` neither ignore it nor give an extras column, the target table has no primary
    // key, the source's key is not part of it (rows the source keeps apart would merge on the
    // target), or the extras column is missing or also a source column.
    TableMapping(std::shared_ptr<const TargetTable> target, std::shared_ptr<const Relation> source,
                 const ColumnRules& rules = {});

    const TargetTable& target() const { return *target_; }
    const Relation& source() const { return *source_; }

    // Source-ordered values -> target-ordered values (kAbsent where the source has nothing).
    // For an `upsert` with an extras column, the values of the source columns the target
    // lacks go into it as one JSON object ({"column": "text" or null}); throws rep::Error
    // (fatal) if one of them was not sent (an unchanged value), as the object written would
    // erase it on the target.
    std::vector<Datum> project(const std::vector<Datum>& source_values, bool upsert = false) const;
    // A userscript's layout may name columns the target lacks: fine for a delete (MOLT
    // ignores a delete's extra columns), schema drift for an upsert that gives one a value.
    // The drift error for such source-ordered values, or "" if there is none.
    bool has_unmapped() const { return !unmapped_.empty(); }
    std::string drift_in(const std::vector<Datum>& source_values) const;
    // Whether rows of this layout write target column `column` (an index into its columns).
    bool writes(size_t column) const;
    // The source column whose values target column `column` takes, or -1.
    int source_of(size_t column) const;
    // Gives the columns with a constant expr (no $0) that the row lacks a value, so that an
    // upsert writes them: called on the row as it is written, after any userscript handler
    // (which does not see them).
    void add_constants(std::vector<Datum>& row) const;
    // Whether every primary key column of a projected row has a value.
    bool has_key(const std::vector<Datum>& row) const;
    // Encodes the primary key of a projected row for equality tests.
    std::string key(const std::vector<Datum>& row) const;
    // "id=42, region=eu" for error messages.
    std::string describe_key(const std::vector<Datum>& row) const;
    // Name of the first primary key column the row lacks.
    std::string missing_key_column(const std::vector<Datum>& row) const;
    // A hash of the target table and the primary key of a row in *source* order, without
    // projecting it (the parallel dispatcher's conflict key); nullopt if a key column has
    // no value in the row.
    std::optional<uint64_t> key_hash(const std::vector<Datum>& source_values) const;

private:
    // The schema drift error for source column `column`, with the fix: a rename where the
    // layouts suggest one, else adding the column.
    std::string drift_message(const std::string& column) const;
    // Throws rep::Error (fatal) if the source's key cannot keep its rows apart on the target.
    void check_key_coverage() const;

    std::shared_ptr<const TargetTable> target_;
    std::shared_ptr<const Relation> source_;
    std::vector<int> source_to_target_;  // -1: not written (generated on the target)
    std::vector<int> pk_source_;         // source column of each primary key column, or -1
    std::vector<size_t> unmapped_;       // source columns the target lacks (userscript layouts)
    std::vector<size_t> to_extras_;      // source columns folded into the extras column
    std::vector<size_t> constants_;      // target columns the source lacks, with a constant expr
    int extras_ = -1;                    // the extras column, or -1
    uint64_t table_hash_ = 0;
};

}  // namespace rep::target
