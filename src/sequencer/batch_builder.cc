#include "sequencer/batch_builder.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::sequencer {

using target::Segment;
using target::TableMapping;

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
    folded_.clear();
    rows_ = 0;
}

std::vector<Segment> BatchBuilder::take_segments() {
    std::vector<Segment> out;
    for (Folded& f : folded_) {
        Segment deletes;
        deletes.mapping = f.mapping;
        deletes.kind = MutationKind::kDelete;
        deletes.cols = f.mapping->target().pk;
        std::vector<Segment> upserts;  // one per column set
        for (Folded::Entry& e : f.entries) {
            if (e.delete_first) {
                std::vector<Datum> key(e.row.size());
                for (size_t i : f.mapping->target().pk) {
                    key[i] = e.row[i];
                }
                deletes.rows.push_back(std::move(key));
            }
            if (!e.upsert) {
                continue;
            }
            std::vector<size_t> cols = present_columns(e.row);
            auto it = std::find_if(upserts.begin(), upserts.end(),
                                   [&](const Segment& s) { return s.cols == cols; });
            if (it == upserts.end()) {
                Segment s;
                s.mapping = f.mapping;
                s.kind = MutationKind::kUpsert;
                s.cols = std::move(cols);
                upserts.push_back(std::move(s));
                it = upserts.end() - 1;
            }
            it->rows.push_back(std::move(e.row));
        }
        if (!deletes.rows.empty()) {
            out.push_back(std::move(deletes));
        }
        for (Segment& s : upserts) {
            out.push_back(std::move(s));
        }
    }
    for (Segment& s : segments_) {
        out.push_back(std::move(s));
    }
    clear();
    return out;
}

void BatchBuilder::fold(const std::shared_ptr<const TableMapping>& mapping, MutationKind kind,
                        std::vector<Datum> row) {
    auto f = std::find_if(folded_.begin(), folded_.end(),
                          [&](const Folded& x) { return x.mapping == mapping; });
    if (f == folded_.end()) {
        folded_.push_back(Folded{mapping, {}, {}});
        f = folded_.end() - 1;
    }
    std::string key = mapping->key(row);
    auto it = f->index.find(key);
    if (it == f->index.end()) {
        f->index.emplace(std::move(key), f->entries.size());
        Folded::Entry e;
        e.delete_first = kind == MutationKind::kDelete;
        e.upsert = kind == MutationKind::kUpsert;
        e.row = std::move(row);
        f->entries.push_back(std::move(e));
        ++rows_;
        return;
    }
    Folded::Entry& e = f->entries[it->second];
    if (kind == MutationKind::kDelete) {
        e.delete_first = true;
        e.upsert = false;
        e.row = std::move(row);
    } else if (e.upsert) {
        // A later image of the same row: columns it does not carry (unchanged TOAST) keep the
        // value the earlier image had.
        for (size_t i = 0; i < row.size(); ++i) {
            if (row[i].absent() && !e.row[i].absent()) {
                row[i] = std::move(e.row[i]);
            }
        }
        e.row = std::move(row);
    } else {
        e.upsert = true;  // deleted earlier in the transaction, now written again
        e.row = std::move(row);
    }
}

const std::shared_ptr<const TableMapping>& BatchBuilder::mapping_for(
    const std::shared_ptr<const Relation>& rel) {
    auto it = mappings_.find(rel.get());
    if (it == mappings_.end()) {
        it = mappings_.emplace(rel.get(), catalog_.resolve(session_, rel)).first;
    }
    return it->second;
}

void BatchBuilder::add(const Mutation& m) {
    const std::shared_ptr<const TableMapping>& mapping = mapping_for(m.relation);
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
    if (collapse_ && !mapping->target().order_sensitive) {
        fold(mapping, kind, std::move(row));
        return;
    }
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

}  // namespace rep::sequencer
