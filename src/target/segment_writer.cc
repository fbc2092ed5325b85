#include "target/segment_writer.h"

#include "util/text_array.h"

#include <fmt/format.h>

#include <functional>

namespace rep::target {
namespace {

// Whether a date/time text ('YYYY-MM-DD HH:MI:SS[.f][zone]', 'T' or ' ' between) has a time
// of day other than midnight: its hour, minute, second or fraction digits (not the zone's).
bool has_time_of_day(const std::string& text) {
    if (text.size() <= 11 || (text[10] != ' ' && text[10] != 'T')) {
        return false;
    }
    for (size_t i = 11; i < text.size(); ++i) {
        char ch = text[i];
        if (ch == '+' || ch == '-' || ch == 'Z' || ch == ' ') {
            break;  // the zone
        }
        if (ch >= '1' && ch <= '9') {
            return true;
        }
    }
    return false;
}

}  // namespace

void SegmentWriter::write_row(util::TargetSession& session, const Segment& s, size_t row) {
    const Statement& st = statement(s);
    reuse_buffers();
    std::vector<util::TargetSession::PipelineCall> calls(1);
    calls[0] = {&st.name, &st.sql, {}};
    arrays(s, row, 1, calls[0].values);
    size_t failed = 0;
    session.exec_pipeline(calls, &failed);
}

const SegmentWriter::Statement& SegmentWriter::statement(const Segment& s) {
    // Generate the SQL once per table layout, kind and column set, not per batch.
    auto [it, inserted] = statements_.try_emplace(StatementKey{s.mapping.get(), s.kind, s.cols});
    if (inserted) {
        const TargetTable& t = s.mapping->target();
        it->second.sql = s.kind == SegmentKind::kDelete ? dialect_.delete_by_pk(t)
                         : s.kind == SegmentKind::kMove ? dialect_.move_by_pk(t, s.cols)
                                                        : dialect_.upsert(t, s.cols);
        // Named after the SQL text, not a counter: the connection remembers what it prepared
        // across pipeline restarts, when a new writer would number its statements afresh and
        // could run one table's rows through another table's statement.
        it->second.name = fmt::format("rep_{:016x}", std::hash<std::string>{}(it->second.sql));
    }
    return it->second;
}

void SegmentWriter::reuse_buffers() {
    // Keep at most kKeepBytes of capacity in all, so a batch of very wide rows does not pin
    // its memory for the rest of the run (on every worker).
    constexpr size_t kKeepBytes = 4 << 20;
    size_t kept = 0;
    for (std::string& b : buffers_) {
        if (kept + b.capacity() > kKeepBytes) {
            std::string().swap(b);
        }
        kept += b.capacity();
    }
    buffers_used_ = 0;
}

std::string& SegmentWriter::next_buffer() {
    if (buffers_used_ == buffers_.size()) {
        buffers_.emplace_back();
    }
    return buffers_[buffers_used_++];
}

size_t SegmentWriter::arrays(const Segment& s, size_t first, size_t count,
                             std::vector<const char*>& values) {
    size_t bytes = 0;
    std::vector<size_t> columns = s.cols;
    if (s.kind == SegmentKind::kMove) {
        // Then the old key, appended to each row after the target's columns.
        size_t width = s.mapping->target().columns.size();
        for (size_t i = 0; i < s.mapping->target().pk.size(); ++i) {
            columns.push_back(width + i);
        }
    }
    const TargetTable& table = s.mapping->target();
    for (size_t c : columns) {
        std::string& out = next_buffer();
        util::TextArrayBuilder b(out);
        bool date = time_dropped_ && c < table.columns.size() && table.columns[c].date;
        for (size_t r = first; r < first + count; ++r) {
            const Datum& d = s.rows[r][c];
            if (d.kind == Datum::Kind::kText) {
                if (date && has_time_of_day(d.text)) {
                    time_dropped_(table, table.columns[c]);
                }
                b.add(d.text);
            } else {
                b.add_null();
            }
        }
        b.finish();
        values.push_back(out.c_str());
        bytes += out.size();
    }
    return bytes;
}

void SegmentWriter::append_rows(const Segment& s, size_t index, size_t first, size_t count,
                                std::vector<util::TargetSession::PipelineCall>& calls) {
    const Statement& st = statement(s);
    size_t mark = buffers_used_;
    util::TargetSession::PipelineCall call{&st.name, &st.sql, {}};
    // Keys are unique within a segment, so its rows may be written in any pieces, unless the
    // table is order-sensitive: a foreign key to itself (or a unique index) is checked at the
    // end of each statement, and rows of one segment may need each other to pass it.
    bool may_split = count > 1 && !s.mapping->target().order_sensitive;
    if (arrays(s, first, count, call.values) > max_message_bytes_ && may_split) {
        // Too wide for one message: give the buffers back and write each half on its own.
        buffers_used_ = mark;
        append_rows(s, index, first, count / 2, calls);
        append_rows(s, index, first + count / 2, count - count / 2, calls);
        return;
    }
    calls.push_back(std::move(call));
    segment_of_call_.push_back(index);
}

void SegmentWriter::append_calls(const std::vector<Segment>& segments,
                                 std::vector<util::TargetSession::PipelineCall>& calls) {
    reuse_buffers();
    segment_of_call_.clear();
    for (size_t i = 0; i < segments.size(); ++i) {
        append_rows(segments[i], i, 0, segments[i].rows.size(), calls);
    }
}

}  // namespace rep::target
