#include "sequencer/batch_builder.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::sequencer {

using target::Segment;
using target::SegmentKind;
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

// Copies into `row` the values it lacks and `from` has.
void fill_absent(std::vector<Datum>& row, const std::vector<Datum>& from) {
    for (size_t i = 0; i < row.size() && i < from.size(); ++i) {
        if (row[i].absent() && !from[i].absent()) {
            row[i] = from[i];
        }
    }
}

// Whether every column the target lets us write has a value.
bool complete(const TableMapping& mapping, const std::vector<Datum>& row) {
    const auto& columns = mapping.target().columns;
    for (size_t i = 0; i < row.size(); ++i) {
        if (row[i].absent() && !columns[i].generated) {
            return false;
        }
    }
    return true;
}

// The first column the source's layout has that `row` carries no value for (an unchanged
// value the source did not send), or "".
std::string first_unsent(const TableMapping& mapping, const std::vector<Datum>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
        if (row[i].absent() && mapping.writes(i)) {
            return mapping.target().columns[i].name;
        }
    }
    return {};
}

std::vector<Datum> key_only(const TableMapping& mapping, const std::vector<Datum>& row) {
    std::vector<Datum> key(row.size());
    for (size_t i : mapping.target().pk) {
        key[i] = row[i];
    }
    return key;
}

}  // namespace

void BatchBuilder::clear() {
    slots_.clear();
    segments_.clear();
    folded_.clear();
    open_folds_.clear();
    rows_ = 0;
}

void BatchBuilder::emit_fold(Folded& f, std::vector<Segment>& out) {
    Segment deletes;
    deletes.mapping = f.mapping;
    deletes.kind = SegmentKind::kDelete;
    deletes.cols = f.mapping->target().pk;
    std::vector<Segment> upserts;  // one per column set
    for (Folded::Entry& e : f.entries) {
        if (e.delete_first) {
            deletes.rows.push_back(key_only(*f.mapping, e.row));
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
            s.kind = SegmentKind::kUpsert;
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

std::vector<Segment> BatchBuilder::take_segments() {
    std::vector<Segment> out;
    for (const Slot& slot : slots_) {
        if (slot.folded) {
            emit_fold(folded_[slot.at], out);
        } else {
            out.push_back(std::move(segments_[slot.at]));
        }
    }
    clear();
    return out;
}

const target::TableMapping* BatchBuilder::fold_key(const Mapping& mapping) const {
    auto it = fold_keys_.find(mapping.get());
    if (it != fold_keys_.end()) {
        return it->second;
    }
    // A mapping seen for the first time: another one of the same table may have come before
    // (the builder keeps every mapping it resolved, so the pointers stay valid).
    const target::TableMapping* key = mapping.get();
    std::string name = mapping->target().name.display();
    for (const auto& [m, k] : fold_keys_) {
        if (m->target().name.display() == name) {
            key = k;
            break;
        }
    }
    fold_keys_.emplace(mapping.get(), key);
    return key;
}

void BatchBuilder::fold(const Mapping& mapping, SegmentKind kind, std::vector<Datum> row) {
    const target::TableMapping* table = fold_key(mapping);
    auto open = open_folds_.find(table);
    if (open == open_folds_.end()) {
        folded_.push_back(Folded{mapping, {}, {}});
        slots_.push_back({true, folded_.size() - 1});
        open = open_folds_.emplace(table, folded_.size() - 1).first;
    }
    Folded& f = folded_[open->second];
    std::string key = mapping->key(row);
    auto it = f.index.find(key);
    if (it == f.index.end()) {
        f.index.emplace(std::move(key), f.entries.size());
        Folded::Entry e;
        e.delete_first = kind == SegmentKind::kDelete;
        e.upsert = kind == SegmentKind::kUpsert;
        e.row = std::move(row);
        f.entries.push_back(std::move(e));
        ++rows_;
        return;
    }
    Folded::Entry& e = f.entries[it->second];
    if (kind == SegmentKind::kDelete) {
        e.delete_first = true;
        e.upsert = false;
        e.row = std::move(row);
    } else if (e.upsert) {
        // A later image of the same row: columns it does not carry (unchanged TOAST) keep the
        // value the earlier image had.
        fill_absent(row, e.row);
        e.row = std::move(row);
    } else {
        e.upsert = true;  // deleted earlier in the transaction, now written again
        e.row = std::move(row);
    }
}

const BatchBuilder::Mapping& BatchBuilder::mapping_for(const std::shared_ptr<const Relation>& rel) {
    auto it = mappings_.find(rel.get());
    if (it == mappings_.end()) {
        if (before_lookup_) {
            before_lookup_();
        }
        it = mappings_.emplace(rel.get(), catalog_.resolve(session_, rel)).first;
    }
    return it->second;
}

void BatchBuilder::require_key(const Mutation& m, const Mapping& mapping,
                               const std::vector<Datum>& row, bool old_tuple) const {
    if (mapping->has_key(row)) {
        return;
    }
    const Relation& rel = *m.relation;
    if (old_tuple) {
        throw fatal(fmt::format(
            "an UPDATE on source table {}.{} changed its replica identity, but the old tuple "
            "lacks primary key column \"{}\" of target table {}, so the old row cannot be "
            "deleted; make the source's replica identity cover the target's primary key "
            "(ALTER TABLE {}.{} REPLICA IDENTITY FULL)",
            rel.schema, rel.name, mapping->missing_key_column(row),
            mapping->target().name.display(), rel.schema, rel.name));
    }
    if (rel.replica_identity == kScriptedIdentity) {
        throw fatal(fmt::format(
            "the userscript's {} for target table {} lacks its primary key column \"{}\" "
            "(from source table {}.{}); make {} return the target's key columns",
            m.kind == MutationKind::kDelete ? "delete" : "row", mapping->target().name.display(),
            mapping->missing_key_column(row), rel.schema, rel.name,
            m.kind == MutationKind::kDelete ? "onRowDelete" : "onRowUpsert"));
    }
    throw fatal(fmt::format(
        "{} on source table {}.{} lacks primary key column \"{}\" of target table {}; the "
        "source's replica identity must cover the target's primary key (ALTER TABLE {}.{} "
        "REPLICA IDENTITY FULL, or give both the same primary key)",
        m.kind == MutationKind::kDelete ? "a DELETE" : "an UPDATE", rel.schema, rel.name,
        mapping->missing_key_column(row), mapping->target().name.display(), rel.schema, rel.name));
}

bool BatchBuilder::hooked(const Mapping& mapping) {
    auto it = hooked_.find(mapping.get());
    if (it == hooked_.end()) {
        it = hooked_.emplace(mapping.get(), hooks_->has_row_handlers(mapping->target())).first;
    }
    return it->second;
}

void BatchBuilder::add(const Mutation& m) {
    const Mapping& mapping = mapping_for(m.relation);
    if (m.kind == MutationKind::kUpsert && mapping->has_unmapped()) {
        if (std::string drift = mapping->drift_in(m.values); !drift.empty()) {
            throw fatal(drift);
        }
    }
    std::vector<Datum> row = mapping->project(m.values, m.kind == MutationKind::kUpsert);
    if (hooks_ != nullptr && hooked(mapping)) {
        add_hooked(m, mapping, std::move(row));
        return;
    }
    require_key(m, mapping, row, false);
    if (m.kind == MutationKind::kUpsert) {
        mapping->add_constants(row);
    }
    if (m.kind == MutationKind::kUpsert && !m.old_values.empty()) {
        // An UPDATE that carried its old key: if the key changed, the old row must go, or it
        // would linger on the target next to the new one.
        std::vector<Datum> old_row = mapping->project(m.old_values);
        require_key(m, mapping, old_row, true);
        if (mapping->key(old_row) != mapping->key(row)) {
            change_key(mapping, std::move(row), std::move(old_row));
            return;
        }
    }
    if (m.kind == MutationKind::kDelete) {
        append(mapping, SegmentKind::kDelete, key_only(*mapping, row));
        return;
    }
    append(mapping, SegmentKind::kUpsert, std::move(row));
}

void BatchBuilder::add_hooked(const Mutation& m, const Mapping& mapping, std::vector<Datum> row) {
    // The handlers see rows by the target's key: a delete's key values in key order, so the
    // key must be there first.
    require_key(m, mapping, row, false);
    if (m.kind == MutationKind::kDelete) {
        row = key_only(*mapping, row);
        if (hooks_->remove(*mapping, row)) {
            append(mapping, SegmentKind::kDelete, std::move(row));
        }
        return;
    }
    // An UPDATE that changed the key reaches the handlers as onRowDelete of the old key and
    // onRowUpsert of the new row, as it reaches schema-level handlers.
    std::vector<Datum> old_key;
    bool kept_old = false;
    if (!m.old_values.empty()) {
        std::vector<Datum> old_row = mapping->project(m.old_values);
        require_key(m, mapping, old_row, true);
        if (mapping->key(old_row) != mapping->key(row)) {
            // Values the new row lacks (unchanged TOAST) are the old row's, when the source
            // sent it whole.
            fill_absent(row, old_row);
            old_key = key_only(*mapping, old_row);
            if (!hooks_->remove(*mapping, old_key)) {
                old_key.clear();  // the handler keeps the old row
                kept_old = true;
            }
        }
    }
    // Judged before the handler, which may leave columns out on purpose.
    std::string unsent = kept_old ? first_unsent(*mapping, row) : "";
    if (!hooks_->upsert(*mapping, row)) {
        if (!old_key.empty()) {
            append(mapping, SegmentKind::kDelete, std::move(old_key));
        }
        return;
    }
    if (!unsent.empty()) {
        // The new row would be inserted beside the kept one without the values the source
        // did not send: they would silently become NULL or defaults.
        throw fatal(fmt::format(
            "the userscript's onRowDelete kept the old row of a key change on table {} (row {}), "
            "but the new row lacks column \"{}\" (an unchanged value the source did not send), "
            "so it cannot be written whole; make the source send whole rows (ALTER TABLE {}.{} "
            "REPLICA IDENTITY FULL) or let the old row go",
            mapping->target().name.display(), mapping->describe_key(row), unsent,
            m.relation->schema, m.relation->name));
    }
    add_row(mapping, MutationKind::kUpsert, std::move(row), std::move(old_key));
}

void BatchBuilder::add_row(const Mapping& mapping, MutationKind kind, std::vector<Datum> row,
                           std::vector<Datum> old_key) {
    for (const std::vector<Datum>* r : {&row, &old_key}) {
        if (!r->empty() && !mapping->has_key(*r)) {
            throw fatal(fmt::format(
                "the userscript's {} for target table {} lacks primary key column \"{}\"",
                kind == MutationKind::kDelete ? "delete" : "row", mapping->target().name.display(),
                mapping->missing_key_column(*r)));
        }
    }
    if (kind == MutationKind::kDelete) {
        append(mapping, SegmentKind::kDelete, key_only(*mapping, row));
        return;
    }
    mapping->add_constants(row);  // after the handlers, and for rows onWrite writes
    if (!old_key.empty() && mapping->key(old_key) != mapping->key(row)) {
        change_key(mapping, std::move(row), std::move(old_key));
        return;
    }
    append(mapping, SegmentKind::kUpsert, std::move(row));
}

void BatchBuilder::change_key(const Mapping& mapping, std::vector<Datum> row,
                              std::vector<Datum> old_row) {
    // The values the new row lacks are the old row's: from the old tuple when the source sent
    // it whole (REPLICA IDENTITY FULL), or from a change to the old key earlier in this batch.
    fill_absent(row, old_row);
    if (!complete(*mapping, row) && folding(mapping)) {
        if (auto open = open_folds_.find(fold_key(mapping)); open != open_folds_.end()) {
            Folded& f = folded_[open->second];
            auto it = f.index.find(mapping->key(old_row));
            if (it != f.index.end() && f.entries[it->second].upsert) {
                fill_absent(row, f.entries[it->second].row);
            }
        }
    }
    if (complete(*mapping, row)) {
        append(mapping, SegmentKind::kDelete, key_only(*mapping, old_row));
        append(mapping, SegmentKind::kUpsert, std::move(row));
        return;
    }
    // Move the row on the target, after everything before it and before everything after.
    open_folds_.erase(fold_key(mapping));
    for (size_t i : mapping->target().pk) {
        row.push_back(old_row[i]);
    }
    append(mapping, SegmentKind::kMove, std::move(row));
}

bool BatchBuilder::can_extend_last_segment(const Mapping& mapping) const {
    if (segments_.empty()) {
        return false;
    }
    // Folded changes of other tables may come after the last segment: their order relative
    // to it does not matter. This table's own folded changes after it do.
    for (auto slot = slots_.rbegin(); slot != slots_.rend() && slot->folded; ++slot) {
        if (fold_key(folded_[slot->at].mapping) == fold_key(mapping)) {
            return false;
        }
    }
    return true;
}

void BatchBuilder::append(const Mapping& mapping, SegmentKind kind, std::vector<Datum> row) {
    if (kind != SegmentKind::kMove && folding(mapping)) {
        fold(mapping, kind, std::move(row));
        return;
    }
    size_t width = mapping->target().columns.size();
    std::vector<size_t> cols;
    if (kind == SegmentKind::kDelete) {
        cols = mapping->target().pk;
    } else {
        std::vector<Datum> target_part(row.begin(), row.begin() + static_cast<ptrdiff_t>(width));
        cols = present_columns(target_part);
    }
    std::string key = mapping->key(row);
    std::string old_key;
    if (kind == SegmentKind::kMove) {
        std::vector<Datum> old_row(width);
        const auto& pk = mapping->target().pk;
        for (size_t i = 0; i < pk.size(); ++i) {
            old_row[pk[i]] = row[width + i];
        }
        old_key = mapping->key(old_row);
    }
    if (can_extend_last_segment(mapping)) {
        Segment& last = segments_.back();
        if (last.mapping == mapping && last.kind == kind && last.cols == cols) {
            auto it = last.index.find(key);
            if (kind == SegmentKind::kMove) {
                // One UPDATE sees the table as it was before it: a key may appear only once
                // in it, as an old or a new key, or a chained move would find nothing. And
                // it writes its rows in the order of its join, while a unique index checks
                // each row as it is written. PostgreSQL's plan for it (a nested loop over
                // unnest, estimated at 10 rows) follows the rows' order, but nothing
                // promises that (a hash join would follow the table's): in a
                // unique-constrained table a move that takes a value another one frees
                // could come first, so each move there is a statement of its own (key
                // changes without the whole row are rare: an unchanged TOASTed value).
                if (it == last.index.end() && !last.index.contains(old_key) &&
                    !mapping->target().unique_constrained) {
                    last.index.emplace(std::move(key), last.rows.size());
                    last.index.emplace(std::move(old_key), last.rows.size());
                    last.rows.push_back(std::move(row));
                    ++rows_;
                    return;
                }
            } else {
                if (it == last.index.end()) {
                    last.index.emplace(std::move(key), last.rows.size());
                    last.rows.push_back(std::move(row));
                    ++rows_;
                    return;
                }
                if (kind != SegmentKind::kUpsert) {
                    return;
                }
                if (!mapping->target().unique_constrained || it->second + 1 == last.rows.size()) {
                    // Checked at the statement's end (a foreign key to itself), or no row
                    // between the two writes: the last write of the key in the first one's
                    // place leaves what both in order do.
                    last.rows[it->second] = std::move(row);
                    return;
                }
                // A unique index checks each row as it is written: two rows swapping a value
                // through a third (a = NULL, b = a's, a = b's) need the second write of `a`
                // after `b`'s, so it goes in a statement after this one.
            }
        }
    }
    Segment s;
    s.mapping = mapping;
    s.kind = kind;
    s.cols = std::move(cols);
    s.index.emplace(std::move(key), 0);
    if (!old_key.empty()) {
        s.index.emplace(std::move(old_key), 0);
    }
    s.rows.push_back(std::move(row));
    segments_.push_back(std::move(s));
    slots_.push_back({false, segments_.size() - 1});
    ++rows_;
}

}  // namespace rep::sequencer
