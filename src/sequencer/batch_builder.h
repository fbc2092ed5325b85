#pragma once

#include "core/mutation.h"
#include "sequencer/table_hooks.h"
#include "target/segment_writer.h"
#include "target/table_catalog.h"
#include "util/target_session.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace rep::sequencer {

// Accumulates the row changes of one target transaction into segments (one statement each),
// in an order that leaves the target as applying every change in source order would.
//
// Strict order (order-sensitive tables, or --collapseMutations=false): a change joins the
// last segment when it has the same table, kind and column set; a key already in that segment
// is replaced (last write wins, as applying both in order would leave). Anything else starts a
// new segment, so operations are applied in exactly the source order.
//
// Collapsed (the default for tables with no foreign keys and no unique index besides the
// primary key): a table's changes are folded per key into their final state, then written as
// one delete (keys deleted, or deleted and re-inserted) and one upsert per column set. Per key
// the result equals applying every change in order; across keys and tables order cannot
// matter, because no constraint relates two rows.
//
// A key change whose new row lacks columns (an unchanged TOASTed value, target-only columns)
// cannot be a delete and an insert: the insert would lose them. Unless the old row's values
// are known (the old tuple, or a change to it earlier in this batch), it becomes a *move*, an
// UPDATE of the key found by the old key, in strict order: a collapsed table's changes so
// far are written before it and folding starts afresh after it.
class BatchBuilder {
public:
    using Mapping = std::shared_ptr<const target::TableMapping>;

    // `session` is where the catalog reads tables it has not seen yet. `hooks`, if not null,
    // are the table-level handlers each row of a table that has them goes through first.
    BatchBuilder(target::TableCatalog& catalog, util::TargetSession& session, bool collapse,
                 TableHooks* hooks = nullptr)
        : catalog_(catalog), session_(session), collapse_(collapse), hooks_(hooks) {}

    // Throws rep::Error (fatal) for an unknown target table, schema drift or a row without
    // its primary key, or what a table-level handler threw.
    void add(const Mutation& m);
    // A target-ordered row of `mapping`'s table as an onWrite handler writes it (api.write),
    // with no handlers: an upsert, a delete by key, or, when `old_key` holds another key, a
    // key change. Throws rep::Error (fatal) for a row without its primary key.
    void add_row(const Mapping& mapping, MutationKind kind, std::vector<Datum> row,
                 std::vector<Datum> old_key = {});
    size_t rows() const { return rows_; }
    bool empty() const { return rows_ == 0; }
    // The statements to run, in an order that gives the source's result; empties the builder.
    std::vector<target::Segment> take_segments();
    void clear();
    // Folding per key on (true) or strict source order for every table (false).
    void set_collapse(bool on) { collapse_ = on; }
    // Called before the catalog is read on the session (a table not seen yet): the session
    // must be free for it (GroupApplier reads the answers of chained commits first).
    void before_lookup(std::function<void()> hook) { before_lookup_ = std::move(hook); }

private:
    // One table's changes folded per key.
    struct Folded {
        struct Entry {
            bool delete_first = false;  // the target's current row must go first
            bool upsert = false;        // then this row is written
            std::vector<Datum> row;
        };
        Mapping mapping;
        std::unordered_map<std::string, size_t> index;  // key -> entries
        std::vector<Entry> entries;
    };
    // The output in order: a strict segment, or a table's folded changes.
    struct Slot {
        bool folded;
        size_t at;  // into folded_ or segments_
    };

    // The mapping of a relation, from this builder's own cache (no lock per row); the shared
    // catalog is asked once per relation layout.
    const Mapping& mapping_for(const std::shared_ptr<const Relation>& rel);
    // Whether the table of `mapping` has row handlers (asked once per mapping).
    bool hooked(const Mapping& mapping);
    // A row change of a table with row handlers: the handlers first, then as add() does.
    void add_hooked(const Mutation& m, const Mapping& mapping, std::vector<Datum> row);
    // Throws the error for a row (of `m`, or the script's) without its primary key.
    void require_key(const Mutation& m, const Mapping& mapping, const std::vector<Datum>& row,
                     bool old_tuple) const;
    // A key change: a delete and an upsert, or a move (see the class comment).
    void change_key(const Mapping& mapping, std::vector<Datum> row, std::vector<Datum> old_row);
    bool folding(const Mapping& mapping) const {
        return collapse_ && !mapping->target().order_sensitive;
    }
    void append(const Mapping& mapping, target::SegmentKind kind, std::vector<Datum> row);
    // Whether a change of `mapping` in strict order may join the last strict segment.
    bool can_extend_last_segment(const Mapping& mapping) const;
    void fold(const Mapping& mapping, target::SegmentKind kind, std::vector<Datum> row);
    void emit_fold(Folded& f, std::vector<target::Segment>& out);

    target::TableCatalog& catalog_;
    util::TargetSession& session_;
    // The catalog keeps every relation it mapped alive, so their addresses stay unique.
    std::unordered_map<const Relation*, Mapping> mappings_;
    bool collapse_;
    TableHooks* hooks_;
    std::unordered_map<const target::TableMapping*, bool> hooked_;
    std::vector<Slot> slots_;
    std::vector<target::Segment> segments_;  // strict order
    std::vector<Folded> folded_;
    // The fold still open for each collapsed table (index into folded_), by the target
    // table's name: rows of one table may come through several mappings (two source layouts,
    // or a userscript's rows with different column sets, such as a delete's key only), and
    // they must fold together, or a later delete could be written before an earlier upsert.
    std::unordered_map<const target::TableMapping*, size_t> open_folds_;
    // The first mapping seen of each target table, by mapping: what open_folds_ is keyed by.
    const target::TableMapping* fold_key(const Mapping& mapping) const;
    mutable std::unordered_map<const target::TableMapping*, const target::TableMapping*> fold_keys_;
    size_t rows_ = 0;
    std::function<void()> before_lookup_;
};

}  // namespace rep::sequencer
