#pragma once

#include "core/change_item.h"
#include "target/table_catalog.h"
#include "util/target_session.h"

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rep::sequencer {

// The conflict keys of row changes (docs/architecture.md §2.8): two source transactions that
// share a key must apply in source order; others may apply on different connections.
//
// A row change's keys are (target table, primary key) of its new row and, for an UPDATE that
// carried it, of its old key. Rows of order-sensitive tables (foreign keys, secondary unique
// indexes) relate rows of other keys and tables, so such tables share one key, or with
// `table_groups` (--enableParallelApplies) one key per set of tables joined by foreign keys.
// Used by the dispatcher thread only.
class ConflictKeys {
public:
    // Reads every foreign key as (referencing, referenced) "schema.table" pairs;
    // target::load_foreign_keys() in production.
    using ForeignKeyLoader =
        std::function<std::vector<std::pair<std::string, std::string>>(util::TargetSession&)>;

    ConflictKeys(target::TableCatalog& catalog, util::TargetSession& session, bool table_groups,
                 ForeignKeyLoader load_foreign_keys);

    // Appends the keys of the row changes of `changes` to `keys`. Returns false when a key
    // cannot be derived (an unknown table, schema drift, a missing key column): the
    // transaction must then run alone, so that its worker reports the error in context.
    // Throws rep::Error only for retryable errors.
    bool add(const ChangeItem& changes, std::vector<uint64_t>& keys);

private:
    uint64_t table_group_key(const target::TargetTable& table);

    target::TableCatalog& catalog_;
    util::TargetSession& session_;
    bool table_groups_enabled_;
    ForeignKeyLoader load_foreign_keys_;
    // Table -> root table of its foreign-key group (--enableParallelApplies), read on first
    // need and again whenever a table not placed yet shows up.
    std::unordered_map<std::string, std::string> table_groups_;
    bool table_groups_loaded_ = false;
    // Mappings already resolved, by relation (no lock per row; the catalog keeps relations
    // alive, so their addresses stay unique).
    std::unordered_map<const Relation*, const target::TableMapping*> mappings_;
    // table_group_key() per order-sensitive table, so rows of such tables cost one lookup.
    // The catalog keeps every table it made, so the pointers stay valid; cleared whenever
    // table_groups_ is re-read.
    std::unordered_map<const target::TargetTable*, uint64_t> group_keys_;
};

}  // namespace rep::sequencer
