#include "target/table_applier.h"

#include "base/error.h"
#include "util/pg_conn.h"
#include "util/text_array.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace rep {

TableMapping::TableMapping(std::shared_ptr<const TargetTable> target,
                           std::shared_ptr<const Relation> source)
    : target_(std::move(target)), source_(std::move(source)) {
    if (target_->pk.empty()) {
        throw fatal(fmt::format(
            "target table {} has no primary key; replicated tables need one so rows can be "
            "upserted and deleted by key (ALTER TABLE {} ADD PRIMARY KEY (...))",
            target_->name.display(), target_->name.display()));
    }
    for (const auto& col : source_->columns) {
        auto idx = target_->find(col.name);
        if (!idx) {
            throw fatal(fmt::format(
                "schema drift detected: source table {}.{} has column \"{}\" but target table {} "
                "does not; add the column to the target (ALTER TABLE {} ADD COLUMN {} ...) and "
                "run the same command again",
                source_->schema, source_->name, col.name, target_->name.display(),
                target_->name.display(), quote_ident(col.name)));
        }
        source_to_target_.push_back(target_->columns[*idx].generated ? -1 : static_cast<int>(*idx));
    }
    for (size_t pk : target_->pk) {
        auto it =
            std::find(source_to_target_.begin(), source_to_target_.end(), static_cast<int>(pk));
        pk_source_.push_back(
            it == source_to_target_.end() ? -1 : static_cast<int>(it - source_to_target_.begin()));
    }
    table_hash_ = std::hash<std::string>{}(target_->name.display());
}

std::optional<uint64_t> TableMapping::key_hash(const std::vector<Datum>& source_values) const {
    uint64_t h = table_hash_;
    for (int src : pk_source_) {
        if (src < 0 || static_cast<size_t>(src) >= source_values.size() ||
            source_values[static_cast<size_t>(src)].absent()) {
            return std::nullopt;
        }
        const Datum& d = source_values[static_cast<size_t>(src)];
        uint64_t v = d.is_null() ? 0x9e3779b97f4a7c15ULL : std::hash<std::string>{}(d.text);
        h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);  // boost-style combine
    }
    return h;
}

std::vector<Datum> TableMapping::project(const std::vector<Datum>& values) const {
    std::vector<Datum> row(target_->columns.size());
    for (size_t i = 0; i < values.size() && i < source_to_target_.size(); ++i) {
        if (source_to_target_[i] >= 0) {
            row[static_cast<size_t>(source_to_target_[i])] = values[i];
        }
    }
    return row;
}

bool TableMapping::has_key(const std::vector<Datum>& row) const {
    for (size_t i : target_->pk) {
        if (row[i].absent()) {
            return false;
        }
    }
    return true;
}

std::string TableMapping::key(const std::vector<Datum>& row) const {
    std::string k;
    for (size_t i : target_->pk) {
        const Datum& d = row[i];
        k += d.is_null() ? 'n' : 't';
        k += std::to_string(d.text.size());
        k += ':';
        k += d.text;
    }
    return k;
}

std::string TableMapping::describe_key(const std::vector<Datum>& row) const {
    std::string out;
    for (size_t i : target_->pk) {
        if (!out.empty()) {
            out += ", ";
        }
        const Datum& d = row[i];
        out += target_->columns[i].name + "=" +
               (d.is_null()  ? "NULL"
                : d.absent() ? "<absent>"
                             : d.text.substr(0, 100));
    }
    return out;
}

std::string TableMapping::missing_key_column(const std::vector<Datum>& row) const {
    for (size_t i : target_->pk) {
        if (row[i].absent()) {
            return target_->columns[i].name;
        }
    }
    return {};
}

void SegmentWriter::write_row(PgConn& conn, const Segment& s, size_t row) {
    run(conn, s, row, 1);
}

const SegmentWriter::Statement& SegmentWriter::statement(const Segment& s) {
    // Generate the SQL once per table layout, kind and column set, not per batch.
    auto [it, inserted] = statements_.try_emplace(StatementKey{s.mapping.get(), s.kind, s.cols});
    if (inserted) {
        const TargetTable& t = s.mapping->target();
        it->second.sql =
            s.kind == MutationKind::kDelete ? dialect_.delete_by_pk(t) : dialect_.upsert(t, s.cols);
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

void SegmentWriter::arrays(const Segment& s, size_t first, size_t count,
                           std::vector<const char*>& values) {
    for (size_t c : s.cols) {
        std::string& out = next_buffer();
        TextArrayBuilder b(out);
        for (size_t r = first; r < first + count; ++r) {
            const Datum& d = s.rows[r][c];
            if (d.kind == Datum::Kind::kText) {
                b.add(d.text);
            } else {
                b.add_null();
            }
        }
        b.finish();
        values.push_back(out.c_str());
    }
}

void SegmentWriter::run(PgConn& conn, const Segment& s, size_t first, size_t count) {
    const Statement& st = statement(s);
    conn.prepare(st.name, st.sql, static_cast<int>(s.cols.size()));
    reuse_buffers();
    std::vector<const char*> values;
    arrays(s, first, count, values);
    conn.exec_prepared(st.name, values);
}

void SegmentWriter::append_calls(const std::vector<Segment>& segments,
                                 std::vector<PgConn::PipelineCall>& calls) {
    reuse_buffers();
    for (const Segment& s : segments) {
        const Statement& st = statement(s);
        PgConn::PipelineCall call{&st.name, &st.sql, {}};
        arrays(s, 0, s.rows.size(), call.values);
        calls.push_back(std::move(call));
    }
}

std::shared_ptr<const TargetTable> TableResolver::table(PgConn& conn, const Relation& rel) {
    TableName name{schema_, rel.name};
    auto t = load_target_table(conn, name);
    if (!t) {
        throw fatal(fmt::format(
            "source table {}.{} has no target table {} on the {} target; create it with the "
            "same columns and primary key, then run the same command again",
            rel.schema, rel.name, name.display(), dialect_.name()));
    }
    return std::make_shared<const TargetTable>(std::move(*t));
}

std::shared_ptr<const TableMapping> TableResolver::resolve(
    PgConn& conn, const std::shared_ptr<const Relation>& rel) {
    auto it = by_relation_.find(rel.get());
    if (it != by_relation_.end()) {
        return it->second;
    }
    auto mapping = std::make_shared<const TableMapping>(table(conn, *rel), rel);
    by_relation_.emplace(rel.get(), mapping);
    pinned_.push_back(rel);
    return mapping;
}

}  // namespace rep
