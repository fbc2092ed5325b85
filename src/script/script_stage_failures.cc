// What a failed batch of the userscript stage says: the row, table, key and script
// position, and what to change.

#include "base/error.h"

#include "script/script_stage.h"
#include <fmt/format.h>

namespace rep::script {

void ScriptStage::fail(size_t at, const JsError* error) {
    abandon(failure(at, error));
}

void ScriptStage::abandon(const Error& e) {
    // Nothing of the batch goes on; the stage starts afresh (the source sends the
    // transaction again after a restart).
    clear_batch();
    throw e;
}

Error ScriptStage::not_utf8() const {
    for (const Pending& p : pending_) {
        const Relation& rel = *p.layout->relation;
        const std::vector<Datum>& values = values_of(p);
        for (size_t c = 0; c < values.size() && c < rel.columns.size(); ++c) {
            bool sent = p.kind == MutationKind::kUpsert || rel.columns[c].is_key;  // as add()
            if (sent && values[c].kind == Datum::Kind::kText &&
                !JsContext::is_utf8(values[c].text)) {
                return fatal(fmt::format(
                    "--userscript {}: the value of column \"{}\" of source table {}.{} (row {}) "
                    "is not valid UTF-8 text, so it could not be handed to the engine; values "
                    "must be UTF-8 text for the script to see them",
                    script_.name(), rel.columns[c].name, rel.schema, rel.name, describe_key(p)));
            }
        }
    }
    const Pending& p = pending_.back();  // batches end once past kBatchBytes: this row is it
    return fatal(fmt::format(
        "--userscript {}: a row change of source table {}.{} (row {}) could not be handed to "
        "the engine: its values are more than one JavaScript string holds (2 GiB)",
        script_.name(), p.layout->relation->schema, p.layout->relation->name, describe_key(p)));
}

Error ScriptStage::unsent_in_key_change(const Pending& p, const std::string& column) const {
    const Relation& rel = *p.layout->relation;
    return fatal(fmt::format(
        "--userscript {}: an UPDATE of source table {}.{} changed the row's key (new row {}) "
        "without sending column \"{}\" (an unchanged value stored out of line, TOAST), and "
        "the script did not answer it with one delete and one row of one table, which would "
        "move the row on the target and keep the value; the row inserted without it would "
        "hold NULL or the column's default instead. Answer such changes so (or drop the new "
        "row), or make the source send whole old rows for later changes (ALTER TABLE {}.{} "
        "REPLICA IDENTITY FULL), then run the same command again",
        script_.name(), rel.schema, rel.name, describe_key(p), column, rel.schema, rel.name));
}

Error ScriptStage::failure(size_t at, const JsError* error) {
    JsContext& js = script_.js();
    JSObjectRef state = js.as_object(js.get(batch_, "state"));
    if (at == SIZE_MAX) {
        double n = JSValueToNumber(js.ctx(), js.get(state, "at"), nullptr);
        at = n >= 0 && n < static_cast<double>(pending_.size()) ? static_cast<size_t>(n) : SIZE_MAX;
    }
    std::string kind = js.to_string(js.get(state, "kind"));
    if (at == SIZE_MAX) {
        // The batch failed before its first handler (the engine could not parse its text).
        return fatal(fmt::format(
            "--userscript {}: a batch of {} row changes (the first from table {}.{}, row {}) "
            "could not be handed to the engine{}",
            script_.name(), pending_.size(), pending_[0].layout->relation->schema,
            pending_[0].layout->relation->name, describe_key(pending_[0]),
            error != nullptr ? ": " + error->describe() : ""));
    }
    const Pending& p = pending_.at(at);
    const Relation& rel = *p.layout->relation;
    if (probe_ != nullptr) {
        probe_->script_call(
            p.kind == MutationKind::kUpsert ? p.layout->on_upsert : p.layout->on_delete, 0,
            metrics::Probe::ScriptOutcome::kError);
    }
    std::string detail = js.to_string(js.get(state, "detail"));
    if (error == nullptr && kind == "answer") {
        return fatal(fmt::format(
            "--userscript {}: {} returned {} for source table {}.{} (row {}); return the row, "
            "{{table: [rows]}} to route it, or null to drop it",
            script_.name(), handler_of(p), detail, rel.schema, rel.name, describe_key(p)));
    }
    if (error == nullptr && kind == "function") {
        return fatal(fmt::format(
            "--userscript {}: {} returned column \"{}\" of table {} as a function; values must "
            "be strings, numbers, booleans, null, objects or arrays",
            script_.name(), handler_of(p), detail, js.to_string(js.get(state, "table"))));
    }
    JsError thrown = error != nullptr ? *error : js.error_from(js.get(state, "error"));
    return fatal(fmt::format(
        "--userscript {}: {} threw for source table {}.{} (row {}): {}; nothing of this "
        "source transaction was applied, fix the script and run the same command again",
        script_.name(), handler_of(p), rel.schema, rel.name, describe_key(p), thrown.describe()));
}

std::string ScriptStage::describe_key(const Pending& p) const {
    const Relation& rel = *p.layout->relation;
    const std::vector<Datum>& values = values_of(p);
    std::string out;
    for (size_t i = 0; i < rel.columns.size() && i < values.size(); ++i) {
        if (!rel.columns[i].is_key) {
            continue;
        }
        const Datum& d = values[i];
        std::string text = d.is_null() ? "NULL" : d.absent() ? "?" : d.text.substr(0, 100);
        out += (out.empty() ? "" : ", ") + rel.columns[i].name + "=" + text;
    }
    return out.empty() ? "without a key" : out;
}

}  // namespace rep::script
