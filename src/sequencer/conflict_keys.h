#pragma once

#include "core/change_item.h"
#include "target/catalog_queries.h"
#include "target/table_catalog.h"
#include "util/target_session.h"

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rep::sequencer {

// The conflict keys of row changes (docs/architecture.md §2.8): two source transactions that
// share a key, one of them holding it exclusively (Schedule::shared), must apply in source
// order; others may apply on different connections.
//
// A row change holds (target table, primary key) of its new row and, for an UPDATE that
// carried it, of its old key, exclusively. Foreign keys tie rows of other keys and tables
// together, and are tracked per referenced row: a child row holds the parent row it refers
// to (new and old) shared, so children of one parent still apply at once; a parent row's
// upsert or delete holds it exclusively, so a child never applies before the parent it
// needs, nor a parent's delete before the children that still referred to it. Where a child's
// old reference is not known (PostgreSQL sends the old row of an UPDATE or DELETE only with
// REPLICA IDENTITY FULL, or where the key carries it), the change holds the foreign key's
// "removal" key shared, which every parent delete or key change holds exclusively.
//
// A unique index besides the primary key is tracked per value: a row change that gives a row
// a value of the index, or takes one away (a delete, an update's old row), holds that value
// exclusively, so a row never takes a value before an earlier change freed it; and it holds
// the index's "any" key shared. A change whose freed value is not known (an UPDATE without
// its old row, a DELETE whose old row lacks the index's columns) holds "any" exclusively, as
// do changes of an index whose texts could differ for equal values (an expression, a partial
// index, another type, a collation of its own), whose column the target computes (generated,
// exprs), or whose rows a userscript's table-level handlers may change. An upsert of a row the
// source inserted (Mutation::inserted) frees nothing; columns an upsert does not send are
// unchanged.
//
// Tables tied together by foreign keys in which one table has a unique constraint without an
// index or an exclusion constraint, or a foreign key's column pair whose texts could differ
// for equal values (other types, a collation of their own), or whose rows go through
// table-level handlers, are ordered as a whole instead:
// one key for all such tables, or with `table_groups` (--enableParallelApplies) one per set
// of tables joined by foreign keys. Used by the dispatcher thread only.
class ConflictKeys {
public:
    // Reads the foreign keys and unique indexes; target::load_row_ties() in production.
    using TiesLoader = std::function<target::RowTies(util::TargetSession&)>;
    // Whether a table's rows go through a userscript's table-level handlers, which may change
    // any value after the keys were taken (ApplyContext::handled_table); may be empty.
    using Handled = std::function<bool(const target::TargetTable&)>;

    ConflictKeys(target::TableCatalog& catalog, util::TargetSession& session, bool table_groups,
                 TiesLoader load_ties, Handled handled = {});

    // Appends the keys of the row changes of `changes` to `keys`. Returns false when a key
    // cannot be derived (an unknown table, schema drift, a missing key column, a tied column
    // the source does not send): the transaction must then run alone, so that its worker
    // reports any error in context. Throws rep::Error only for retryable errors.
    bool add(const ChangeItem& changes, std::vector<uint64_t>& keys);

private:
    // Columns whose values name a referenced row: a foreign key's (child side) or the
    // referenced primary key's (parent side).
    struct Tie {
        std::vector<int> source;  // the source column of each, in the foreign key's order
        uint64_t tag = 0;         // the referenced table and columns
        uint64_t removal = 0;     // their "removal" key (see above)
    };
    // The source columns of a unique index: kNotSent for a column the source does not have
    // (the target fills it in), kComputed for one the target computes (exprs).
    static constexpr int kNotSent = -1;
    static constexpr int kComputed = -2;
    struct Unique {
        std::vector<int> source;
        bool per_value = true;  // false: every change of the index holds `any` exclusively
        bool nulls_distinct = true;
        uint64_t tag = 0;  // its values
        uint64_t any = 0;
    };
    // How the rows of one source layout get their keys.
    struct Plan {
        const target::TableMapping* mapping = nullptr;
        bool plain = true;          // not order-sensitive: its primary key only
        uint64_t whole = 0;         // ordered as a whole: this key (if not 0)
        std::vector<Tie> refers;    // its foreign keys
        std::vector<Tie> referred;  // its primary key, as foreign keys reference it
        std::vector<Unique> uniques;
    };
    // What the foreign keys say about a table.
    struct Placement {
        std::string group;  // the root of its set of tables joined by foreign keys
        bool per_row = false;
    };

    const Plan& plan_for(const Mutation& m);
    Plan make_plan(const target::TableMapping& mapping);
    const Placement& place(const std::string& table);
    // Orders the set of tables joined by foreign keys that holds `table` as a whole, from now
    // on (a table whose handlers may change the values its ties are read from).
    void order_as_a_whole(const std::string& table);
    bool add_ties(const Plan& plan, const Mutation& m, std::vector<uint64_t>& keys) const;
    static void add_uniques(const Plan& plan, const Mutation& m, std::vector<uint64_t>& keys);

    target::TableCatalog& catalog_;
    util::TargetSession& session_;
    bool table_groups_enabled_;
    TiesLoader load_ties_;
    Handled handled_;
    target::RowTies ties_;
    bool ties_loaded_ = false;
    // "schema.table" -> its placement, for every table the ties name; read again whenever an
    // order-sensitive table they do not name shows up.
    std::unordered_map<std::string, Placement> placements_;
    std::unordered_set<std::string> unnamed_;       // order-sensitive tables the ties did not name
    std::unordered_set<std::string> forced_whole_;  // order_as_a_whole(), kept across re-reads
    // Plans by relation (no lock per row; the catalog keeps relations alive, so their
    // addresses stay unique).
    std::unordered_map<const Relation*, Plan> plans_;
    bool reread_ = false;  // the ties were read again since the last add()
};

}  // namespace rep::sequencer
