#pragma once

#include "base/error.h"
#include "sequencer/table_hooks.h"
#include "target/dialect.h"

#include "metrics/probe.h"
#include "script/userscript.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace rep::script {

struct ApplyHandlersOptions {
    // The script to load, with a module cache its first load filled (so every worker runs
    // the same code without reading or compiling files again).
    UserscriptOptions script;
    std::string target_schema;  // --targetSchema as given: meta.schema
    const target::Dialect* dialect = nullptr;
    metrics::Probe* probe = nullptr;  // script_* metrics, if set
};

// The userscript's table-level handlers (configureTargetTables) on one apply worker, in an
// engine of the worker's own, loaded on first use from that worker's thread (so workers never
// wait for one another's handlers). A table's handlers are those registered under its bare
// name, schema.table, database.schema.table, or --targetSchema.table.
//
//   onRowUpsert(row, meta)      row: the target columns the row carries, by target name;
//                               answers the row (columns left out are not written) or null.
//   onRowDelete(keyVals, meta)  keyVals: the primary key's values in key order (strings);
//                               answers them (changed or not) or null to skip the delete.
//   onWrite(ops)                instead of writing a batch's rows of the table: RowOps in
//                               order ({action: "upsert", data, pk, meta} or {action:
//                               "delete", pk, meta}; a key change carries `before` with the
//                               old key), written by api.write(ops) in the same target
//                               transaction, next to getTX()'s query/exec.
// meta is {schema: --targetSchema, table: the target table}. Values cross as strings.
//
// Errors name the script position, handler, table and row key. A target error inside
// onWrite reaches the script as an exception whose message holds "SQLSTATE nnnnn"; if the
// script lets it through, a retryable one (a lost connection, a serialization failure)
// leaves the group to be applied again, anything else stops replication; the checkpoint
// never passes the transaction.
class ApplyHandlers final : public sequencer::TableHooks {
public:
    explicit ApplyHandlers(ApplyHandlersOptions options);
    ~ApplyHandlers() override;
    ApplyHandlers(const ApplyHandlers&) = delete;
    ApplyHandlers& operator=(const ApplyHandlers&) = delete;

    bool has_row_handlers(const target::TargetTable& table) override;
    bool has_on_write(const target::TargetTable& table) override;
    bool upsert(const target::TableMapping& mapping, std::vector<Datum>& row) override;
    bool remove(const target::TableMapping& mapping, std::vector<Datum>& row) override;
    void on_write(std::vector<target::Segment>& segments, Transaction& tx) override;

private:
    // What the handlers of one target table need, made once per table.
    struct Table {
        std::string display;  // schema.table, for messages
        std::optional<Userscript::TableHandlers> handlers;
        std::vector<JSStringRef> names;  // the target columns' names as engine strings
        size_t proto_at = SIZE_MAX;      // the column named "__proto__", if any
        std::unordered_map<std::string, size_t> index;  // column name -> position
        JSValueRef table_name = nullptr;                // meta.table (protected)
        metrics::Probe::ScriptSeries* on_upsert = nullptr;
        metrics::Probe::ScriptSeries* on_delete = nullptr;
        metrics::Probe::ScriptSeries* on_write = nullptr;
    };
    // The onWrite call in progress: what the host functions act on.
    struct Writing {
        Transaction* tx = nullptr;
        std::shared_ptr<const target::TableMapping> mapping;
        Table* table = nullptr;
        // The last target error a host function passed on to the script, and the first
        // retryable one (a statement after it fails with "transaction aborted", which is not).
        std::optional<Error> target_error;
        std::optional<Error> retryable_error;
    };

    Userscript& script();
    Table& table(const target::TargetTable& t);
    JSObjectRef meta(const Table& t);
    // Calls a row handler with metrics; on an exception throws the error naming the handler,
    // the table and the row (`row` gives its key, built only then).
    JSValueRef call(JSObjectRef fn, const std::vector<JSValueRef>& args,
                    metrics::Probe::ScriptSeries* series, const char* handler, const Table& t,
                    const std::function<std::string()>& row);
    std::map<std::string, JsContext::Native> natives();
    // The host functions behind getTX() and api.write().
    Writing& writing(const char* what);
    JSValueRef tx_query(JsContext& js, const std::vector<JSValueRef>& args, bool rows);
    JSValueRef tx_write(JsContext& js, const std::vector<JSValueRef>& args);
    JSValueRef tx_columns(JsContext& js);

    ApplyHandlersOptions options_;
    std::unique_ptr<Userscript> script_;
    std::unordered_map<std::string, Table> tables_;  // by schema.table
    JSValueRef schema_value_ = nullptr;              // meta.schema (protected)
    Writing writing_;
};

}  // namespace rep::script
