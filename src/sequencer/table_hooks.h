#pragma once

#include "core/mutation.h"
#include "target/segment_writer.h"
#include "target/table_mapping.h"
#include "util/target_session.h"

#include <functional>
#include <memory>
#include <vector>

namespace rep::sequencer {

// Per-table handlers that run on the apply side, inside the worker that applies the rows:
// the userscript's configureTargetTables (script/table_handlers.h implements it). One
// instance per apply worker, used by that worker's thread only, so workers never wait for
// each other's handlers.
//
// Rows are target-ordered (TableMapping::project): one Datum per target column, kAbsent
// where the row carries nothing.
class TableHooks {
public:
    // The open target transaction, as onWrite sees it.
    class Transaction {
    public:
        virtual ~Transaction() = default;
        // One row as a handler writes it (api.write): an upsert of the present columns, a
        // delete by key, or an upsert whose `old_key` holds another key (a key change).
        struct RowWrite {
            MutationKind kind = MutationKind::kUpsert;
            std::vector<Datum> row;
            std::vector<Datum> old_key;  // empty, or target-ordered with the key's values
        };
        // Writes the rows of `mapping`'s table now, in order, in the open transaction (BEGIN
        // has gone out). The target's error is thrown as it is, the transaction aborted but
        // not rolled back, so a handler can roll back to a savepoint and go on.
        virtual void write(const std::shared_ptr<const target::TableMapping>& mapping,
                           std::vector<RowWrite> rows) = 0;
        // The session of the open transaction, for the handler's own statements.
        virtual util::TargetSession& session() = 0;
    };

    virtual ~TableHooks() = default;

    // Whether onRowUpsert / onRowDelete handlers are configured for the table.
    virtual bool has_row_handlers(const target::TargetTable& table) = 0;
    // Whether an onWrite handler is configured for the table.
    virtual bool has_on_write(const target::TargetTable& table) = 0;
    // onRowUpsert: replaces `row` by the handler's answer; false drops the row.
    virtual bool upsert(const target::TableMapping& mapping, std::vector<Datum>& row) = 0;
    // onRowDelete: the key values at the primary key's positions of `row` are replaced by the
    // handler's; false drops the delete.
    virtual bool remove(const target::TableMapping& mapping, std::vector<Datum>& row) = 0;
    // onWrite with the segments of one table, in order, instead of writing them: the handler
    // writes what it chooses through `tx`. Throws rep::Error: a target error the handler let
    // through as it was (retryable stays retryable), anything else fatal.
    virtual void on_write(std::vector<target::Segment>& segments, Transaction& tx) = 0;
};

// Makes one TableHooks per apply worker.
using TableHooksFactory = std::function<std::unique_ptr<TableHooks>()>;

}  // namespace rep::sequencer
