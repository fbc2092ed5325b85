#include "sequencer/batch_builder.h"

#include "base/error.h"

#include <fmt/format.h>

namespace rep {
namespace {

std::vector<size_t> present_columns(const std::vector<Datum>& row) {
    std::vector<size_t> cols;
    for (size_t i = 0; i < row.size(); ++i) {
        if (!row[i].absent()) {
            cols.push_back(i);
        }
    }
    return cols;
}

}  // namespace

void BatchBuilder::clear() {
    segments_.clear();
    rows_ = 0;
}

void BatchBuilder::add(const Mutation& m) {
    auto mapping = resolver_.resolve(conn_, m.relation);
    std::vector<Datum> row = mapping->project(m.values);
    const Relation& rel = *m.relation;
    if (!mapping->has_key(row)) {
        throw fatal(fmt::format(
            "{} on source table {}.{} lacks primary key column \"{}\" of target table {}; the "
            "source's replica identity must cover the target's primary key (ALTER TABLE {}.{} "
            "REPLICA IDENTITY FULL, or give both the same primary key)",
            m.kind == MutationKind::kDelete ? "a DELETE" : "an UPDATE", rel.schema, rel.name,
            mapping->missing_key_column(row), mapping->target().name.display(), rel.schema,
            rel.name));
    }
    if (m.kind == MutationKind::kUpsert && !m.old_values.empty()) {
        // An UPDATE that carried its old key: if the key changed, the old row must go, or it
        // would linger on the target next to the new one.
        std::vector<Datum> old_row = mapping->project(m.old_values);
        if (!mapping->has_key(old_row)) {
            throw fatal(fmt::format(
                "an UPDATE on source table {}.{} changed its replica identity, but the old tuple "
                "lacks primary key column \"{}\" of target table {}, so the old row cannot be "
                "deleted; make the source's replica identity cover the target's primary key "
                "(ALTER TABLE {}.{} REPLICA IDENTITY FULL)",
                rel.schema, rel.name, mapping->missing_key_column(old_row),
                mapping->target().name.display(), rel.schema, rel.name));
        }
        if (mapping->key(old_row) != mapping->key(row)) {
            std::vector<Datum> key_only(old_row.size());
            for (size_t i : mapping->target().pk) {
                key_only[i] = old_row[i];
            }
            append(mapping, MutationKind::kDelete, std::move(key_only));
        }
    }
    if (m.kind == MutationKind::kDelete) {
        std::vector<Datum> key_only(row.size());
        for (size_t i : mapping->target().pk) {
            key_only[i] = std::move(row[i]);
        }
        row = std::move(key_only);
    }
    append(mapping, m.kind, std::move(row));
}

void BatchBuilder::append(const std::shared_ptr<const TableMapping>& mapping, MutationKind kind,
                          std::vector<Datum> row) {
    std::vector<size_t> cols =
        kind == MutationKind::kDelete ? mapping->target().pk : present_columns(row);
    std::string key = mapping->key(row);
    if (!segments_.empty()) {
        Segment& last = segments_.back();
        if (last.mapping == mapping && last.kind == kind && last.cols == cols) {
            auto it = last.index.find(key);
            if (it == last.index.end()) {
                last.index.emplace(std::move(key), last.rows.size());
                last.rows.push_back(std::move(row));
                ++rows_;
            } else if (kind == MutationKind::kUpsert) {
                last.rows[it->second] = std::move(row);
            }
            return;
        }
    }
    Segment s;
    s.mapping = mapping;
    s.kind = kind;
    s.cols = std::move(cols);
    s.index.emplace(std::move(key), 0);
    s.rows.push_back(std::move(row));
    segments_.push_back(std::move(s));
    ++rows_;
}

}  // namespace rep
