#pragma once

#include "core/mutation.h"
#include "target/dialect.h"
#include "target/target_schema.h"
#include "util/pg_conn.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rep {
class PgConn;

// How one source relation layout maps onto its target table: columns match by name; target
// columns the source lacks keep their defaults; generated target columns are never written.
// Built once per (relation version, target table) and immutable afterwards.
class TableMapping {
public:
    // Throws rep::Error (fatal, "schema drift") if a source column has no target column, or the
    // target table has no primary key.
    TableMapping(std::shared_ptr<const TargetTable> target, std::shared_ptr<const Relation> source);

    const TargetTable& target() const { return *target_; }
    const Relation& source() const { return *source_; }

    // Source-ordered values -> target-ordered values (kAbsent where the source has nothing).
    std::vector<Datum> project(const std::vector<Datum>& source_values) const;
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
    std::shared_ptr<const TargetTable> target_;
    std::shared_ptr<const Relation> source_;
    std::vector<int> source_to_target_;  // -1: not written (generated on the target)
    std::vector<int> pk_source_;         // source column of each primary key column, or -1
    uint64_t table_hash_ = 0;
};

// A run of mutations of one kind to one table with the same set of present columns, written
// by one statement. Keys are unique within a segment (a later change to a key already in the
// segment replaces it, or, for deletes, is a no-op).
struct Segment {
    std::shared_ptr<const TableMapping> mapping;
    MutationKind kind = MutationKind::kUpsert;
    std::vector<size_t> cols;  // target columns present (upsert) or the primary key (delete)
    std::vector<std::vector<Datum>> rows;
    std::unordered_map<std::string, size_t> index;  // key -> position in rows
};

// Executes segments on the target with prepared statements, one per table, kind and column
// set, prepared once per connection and reused for every batch size.
class SegmentWriter {
public:
    explicit SegmentWriter(const Dialect& dialect) : dialect_(dialect) {}
    // Appends one pipeline call per segment to `calls` (PgConn::exec_pipeline). The parameter
    // text lives in this writer's buffers until the next append_calls() or write_row().
    void append_calls(const std::vector<Segment>& segments,
                      std::vector<PgConn::PipelineCall>& calls);
    // Writes one row of the segment (to find which row a failed batch choked on).
    void write_row(PgConn& conn, const Segment& segment, size_t row);

private:
    void run(PgConn& conn, const Segment& segment, size_t first, size_t count);
    struct Statement;
    const Statement& statement(const Segment& segment);
    // The segment's columns as text[] literals, one per column, rows [first, first + count),
    // written into buffers; appends a pointer to each to `values`.
    void arrays(const Segment& segment, size_t first, size_t count,
                std::vector<const char*>& values);
    // Buffers are reused from batch to batch, so building the literals allocates nothing once
    // they have grown; the first call of a batch frees any beyond 4 MiB of capacity in all.
    void reuse_buffers();
    std::string& next_buffer();

    // Mappings live as long as the resolver that made them, which outlives this writer's use.
    using StatementKey = std::tuple<const TableMapping*, MutationKind, std::vector<size_t>>;
    struct Statement {
        std::string name;
        std::string sql;
    };
    const Dialect& dialect_;
    std::map<StatementKey, Statement> statements_;
    std::deque<std::string> buffers_;  // a deque: handing out one never moves the others
    size_t buffers_used_ = 0;
};

// Finds the target table for a source relation and caches the mapping per relation version,
// re-reading the target catalog whenever the source announces a new layout.
class TableResolver {
public:
    TableResolver(const Dialect& dialect, SchemaRef target_schema)
        : dialect_(dialect), schema_(std::move(target_schema)) {}
    // Throws rep::Error (fatal) naming the table if it does not exist on the target.
    std::shared_ptr<const TableMapping> resolve(PgConn& conn,
                                                const std::shared_ptr<const Relation>& rel);
    std::shared_ptr<const TargetTable> table(PgConn& conn, const Relation& rel);

private:
    const Dialect& dialect_;
    SchemaRef schema_;
    std::unordered_map<const Relation*, std::shared_ptr<const TableMapping>> by_relation_;
    // Keep the relations alive so their addresses stay unique while cached.
    std::vector<std::shared_ptr<const Relation>> pinned_;
};

}  // namespace rep
