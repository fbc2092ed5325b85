#pragma once

#include "core/mutation.h"
#include "target/segment_writer.h"
#include "target/table_catalog.h"
#include "util/target_session.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace rep::sequencer {

// Accumulates the mutations of one target transaction into segments (one statement each).
//
// Strict order (order-sensitive tables, or --collapseMutations=false): a mutation joins the
// last segment when it has the same table, kind and column set; a key already in that segment
// is replaced (last write wins, as applying both in order would leave). Anything else starts a
// new segment, so operations are applied in exactly the source order.
//
// Collapsed (the default for tables with no foreign keys and no unique index besides the
// primary key): all changes of one table in the transaction are folded per key into its
// final state, then written as one delete (keys deleted, or deleted and re-inserted) and one
// upsert per column set. Per key the result equals applying every change in order; across
// keys and tables order cannot matter, because no constraint relates two rows.
class BatchBuilder {
public:
    // `session` is where the catalog reads tables it has not seen yet.
    BatchBuilder(target::TableCatalog& catalog, util::TargetSession& session, bool collapse)
        : catalog_(catalog), session_(session), collapse_(collapse) {}

    // Throws rep::Error (fatal) for an unknown target table, schema drift or a row without
    // its primary key.
    void add(const Mutation& m);
    size_t rows() const { return rows_; }
    bool empty() const { return rows_ == 0; }
    // The statements to run, in an order that gives the source's result; empties the builder.
    std::vector<target::Segment> take_segments();
    void clear();
    // Turns folding off for the rest of this builder's use (strict source order).
    void set_collapse(bool on) { collapse_ = on; }

private:
    // One table's changes folded per key.
    struct Folded {
        struct Entry {
            bool delete_first = false;  // the target's current row must go first
            bool upsert = false;        // then this row is written
            std::vector<Datum> row;
        };
        std::shared_ptr<const target::TableMapping> mapping;
        std::unordered_map<std::string, size_t> index;  // key -> entries
        std::vector<Entry> entries;
    };

    // The mapping of a relation, from this builder's own cache (no lock per row); the shared
    // catalog is asked once per relation layout.
    const std::shared_ptr<const target::TableMapping>& mapping_for(
        const std::shared_ptr<const Relation>& rel);
    void append(const std::shared_ptr<const target::TableMapping>& mapping, MutationKind kind,
                std::vector<Datum> row);
    void fold(const std::shared_ptr<const target::TableMapping>& mapping, MutationKind kind,
              std::vector<Datum> row);

    target::TableCatalog& catalog_;
    util::TargetSession& session_;
    // The catalog keeps every relation it mapped alive, so their addresses stay unique.
    std::unordered_map<const Relation*, std::shared_ptr<const target::TableMapping>> mappings_;
    bool collapse_;
    std::vector<target::Segment> segments_;  // strict order
    std::vector<Folded> folded_;             // collapsed tables, in first-seen order
    size_t rows_ = 0;
};

}  // namespace rep::sequencer
