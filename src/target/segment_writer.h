#pragma once

#include "core/mutation.h"
#include "target/dialect.h"
#include "target/table_mapping.h"
#include "util/target_session.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace rep::target {

// What a segment's statement does.
enum class SegmentKind : uint8_t {
    kUpsert,  // insert the rows, or update the present columns of rows with their key
    kDelete,  // delete rows by primary key
    // Change rows' primary keys in place: an UPDATE found by the old key, so the columns a
    // row does not carry (unchanged TOASTed values, target-only columns) keep their values.
    kMove,
};

// A run of row changes of one kind to one table with the same set of present columns, written
// by one statement. Keys are unique within a segment (a later change to a key already in the
// segment replaces it, or, for deletes, is a no-op); a move segment never holds a key twice,
// as an old or a new key.
struct Segment {
    std::shared_ptr<const TableMapping> mapping;
    SegmentKind kind = SegmentKind::kUpsert;
    // Target columns present (upsert, move: the values written) or the primary key (delete).
    std::vector<size_t> cols;
    // Target-ordered rows. A move row has its old primary key values appended (in key order).
    std::vector<std::vector<Datum>> rows;
    std::unordered_map<std::string, size_t> index;  // key -> position in rows
};

// Executes segments on the target with prepared statements, one per table, kind and column
// set, prepared once per connection and reused for every batch size.
class SegmentWriter {
public:
    // Bind messages carry a statement's parameters; no call's text[] literals add up to more
    // than `max_message_bytes` unless one row alone does, or the table is order-sensitive
    // (its segments are never split) (CockroachDB refuses messages over
    // sql.conn.max_read_buffer_message_size, 16 MiB by default).
    explicit SegmentWriter(const Dialect& dialect, size_t max_message_bytes = kDefaultMaxMessage)
        : dialect_(dialect), max_message_bytes_(max_message_bytes) {}
    static constexpr size_t kDefaultMaxMessage = 8 << 20;

    // Appends pipeline calls for the segments to `calls` (TargetSession::exec_pipeline): one
    // per segment, or several consecutive ones for a segment whose rows would not fit one
    // message. The parameter text lives in this writer's buffers until the next
    // append_calls() or write_row().
    void append_calls(const std::vector<Segment>& segments,
                      std::vector<util::TargetSession::PipelineCall>& calls);
    // The segment (index into the last append_calls() argument) that its `call`-th call
    // (counted from the first call it appended) writes.
    size_t segment_of_call(size_t call) const { return segment_of_call_.at(call); }
    // Writes one row of the segment on its own (to find which row a failed batch choked on).
    void write_row(util::TargetSession& session, const Segment& segment, size_t row);

    // Called for each value with a time of day (not midnight) written into a `date` column:
    // the target keeps the date only (an Oracle DATE, or a timestamp, into a column MOLT Fetch
    // made date). The value is written as it is; the hook makes the drop visible.
    using TimeDropped = std::function<void(const TargetTable&, const TargetColumn&)>;
    void on_time_dropped(TimeDropped hook) { time_dropped_ = std::move(hook); }

private:
    struct Statement;
    const Statement& statement(const Segment& segment);
    // The segment's columns as text[] literals, one per column, rows [first, first + count),
    // written into buffers; appends a pointer to each to `values`. Returns their total size.
    size_t arrays(const Segment& segment, size_t first, size_t count,
                  std::vector<const char*>& values);
    // Appends calls writing rows [first, first + count) of a segment, halving the range
    // until each call's parameters fit max_message_bytes_ (or hold one row).
    void append_rows(const Segment& segment, size_t index, size_t first, size_t count,
                     std::vector<util::TargetSession::PipelineCall>& calls);
    // Buffers are reused from batch to batch, so building the literals allocates nothing once
    // they have grown; the first call of a batch frees any beyond 4 MiB of capacity in all.
    void reuse_buffers();
    std::string& next_buffer();

    // Mappings live as long as the catalog that made them, which outlives this writer's use.
    using StatementKey = std::tuple<const TableMapping*, SegmentKind, std::vector<size_t>>;
    struct Statement {
        std::string name;
        std::string sql;
    };
    const Dialect& dialect_;
    size_t max_message_bytes_;
    std::map<StatementKey, Statement> statements_;
    std::vector<size_t> segment_of_call_;
    std::deque<std::string> buffers_;  // a deque: handing out one never moves the others
    size_t buffers_used_ = 0;
    TimeDropped time_dropped_;
};

}  // namespace rep::target
