#include "script/script_stage.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::script {
namespace {

// Whether `v` is a routing answer ({table: [rows]}) rather than a row: every property holds
// an array of objects. A row's values are strings, null, or (JSON columns) objects and
// arrays of anything, so a row whose every column is an array of objects is read as routing;
// return such a row as {[meta.table]: [row]}.
bool is_routing(JsContext& js, JSObjectRef obj, const std::vector<std::string>& keys) {
    if (keys.empty()) {
        return false;
    }
    for (const std::string& k : keys) {
        JSValueRef v = js.get(obj, k);
        if (!js.is_array(v)) {
            return false;
        }
        JSObjectRef arr = js.as_object(v);
        for (const std::string& i : js.keys(arr)) {
            JSValueRef item = js.get(arr, i);
            if (!js.is_object(item) || js.is_array(item)) {
                return false;
            }
        }
    }
    return true;
}

const char* kind_name(JSContextRef ctx, JSValueRef v) {
    switch (JSValueGetType(ctx, v)) {
        case kJSTypeUndefined:
            return "undefined";
        case kJSTypeNull:
            return "null";
        case kJSTypeBoolean:
            return "a boolean";
        case kJSTypeNumber:
            return "a number";
        case kJSTypeString:
            return "a string";
        default:
            return JSValueIsArray(ctx, v) ? "an array" : "an object";
    }
}

}  // namespace

ScriptStage::ScriptStage(Userscript& script, std::string target_schema)
    : script_(script),
      target_schema_(std::move(target_schema)),
      handlers_(script.schema_handlers(target_schema_)) {}

void ScriptStage::process(Mutation mutation, std::vector<Mutation>& out) {
    if (handlers_.on_upsert == nullptr) {
        out.push_back(std::move(mutation));  // no schema-level handlers for this schema
        return;
    }
    const Relation& rel = *mutation.relation;
    if (mutation.kind == MutationKind::kUpsert && !mutation.old_values.empty()) {
        // An UPDATE that changed the key: the script sees a delete of the old key and an
        // upsert of the new row, so a renamed or routed key moves as the script says.
        bool key_changed = false;
        for (size_t i = 0; i < rel.columns.size() && i < mutation.old_values.size(); ++i) {
            const Datum& o = mutation.old_values[i];
            if (rel.columns[i].is_key && !o.absent() &&
                (o.kind != mutation.values[i].kind || o.text != mutation.values[i].text)) {
                key_changed = true;
            }
        }
        if (key_changed) {
            run(mutation, MutationKind::kDelete, mutation.old_values, out);
        }
    }
    run(mutation, mutation.kind, mutation.values, out);
}

void ScriptStage::run(const Mutation& m, MutationKind kind, const std::vector<Datum>& values,
                      std::vector<Mutation>& out) {
    JsContext& js = script_.js();
    const Relation& rel = *m.relation;
    bool upsert = kind == MutationKind::kUpsert;
    JSObjectRef row = js.object();
    for (size_t i = 0; i < rel.columns.size() && i < values.size(); ++i) {
        const Datum& d = values[i];
        if (d.absent() || (!upsert && !rel.columns[i].is_key)) {
            continue;  // not sent (an unchanged TOASTed value, a delete's non-key column)
        }
        js.set(row, rel.columns[i].name, d.is_null() ? js.null() : js.string(d.text));
    }
    JSObjectRef meta = js.object();
    js.set(meta, "schema", js.string(target_schema_));
    js.set(meta, "table", js.string(rel.name));
    js.set(meta, "sourceSchema", js.string(rel.schema));
    const char* handler = upsert ? "onRowUpsert" : "onRowDelete";
    JsError error;
    auto answer = js.call(upsert ? handlers_.on_upsert : handlers_.on_delete, {row, meta}, &error);
    if (!answer) {
        throw fatal(fmt::format(
            "--userscript {}: {} threw for source table {}.{} (row {}): {}; nothing of this "
            "source transaction was applied, fix the script and run the same command again",
            script_.name(), handler, rel.schema, rel.name, describe_key(m, values),
            error.describe()));
    }
    JSContextRef ctx = js.ctx();
    if (JSValueIsNull(ctx, *answer) || JSValueIsUndefined(ctx, *answer)) {
        return;  // dropped
    }
    if (!js.is_object(*answer) || js.is_array(*answer)) {
        throw fatal(fmt::format(
            "--userscript {}: {} returned {} for source table {}.{} (row {}); return the row, "
            "{{table: [rows]}} to route it, or null to drop it",
            script_.name(), handler, kind_name(ctx, *answer), rel.schema, rel.name,
            describe_key(m, values)));
    }
    JSObjectRef obj = js.as_object(*answer);
    std::vector<std::string> keys = js.keys(obj);
    if (!is_routing(js, obj, keys)) {
        emit(m, kind, rel.name, obj, out, handler);
        return;
    }
    for (const std::string& table : keys) {
        JSObjectRef rows = js.as_object(js.get(obj, table));
        for (const std::string& i : js.keys(rows)) {
            emit(m, kind, table, js.get(rows, i), out, handler);
        }
    }
}

void ScriptStage::emit(const Mutation& m, MutationKind kind, const std::string& table,
                       JSValueRef row, std::vector<Mutation>& out, const std::string& handler) {
    JsContext& js = script_.js();
    JSObjectRef obj = js.as_object(row);
    std::vector<std::string> columns = js.keys(obj);
    Mutation result;
    result.kind = kind;
    result.values.reserve(columns.size());
    for (const std::string& c : columns) {
        JSValueRef v = js.get(obj, c);
        switch (JSValueGetType(js.ctx(), v)) {
            case kJSTypeUndefined:
                result.values.push_back(Datum{});  // absent: the target keeps its value
                break;
            case kJSTypeNull:
                result.values.push_back(Datum::null());
                break;
            case kJSTypeObject: {
                auto json = js.to_json(v);
                if (!json) {
                    throw fatal(fmt::format(
                        "--userscript {}: {} returned column \"{}\" of table {} as a function; "
                        "values must be strings, numbers, booleans, null, objects or arrays",
                        script_.name(), handler, c, table));
                }
                result.values.push_back(Datum::value(std::move(*json)));
                break;
            }
            default:
                result.values.push_back(Datum::value(js.to_string(v)));
        }
    }
    result.relation = relation_for(m.relation, table, columns);
    out.push_back(std::move(result));
}

std::shared_ptr<const Relation> ScriptStage::relation_for(
    const std::shared_ptr<const Relation>& source, const std::string& table,
    const std::vector<std::string>& columns) {
    auto key = std::make_tuple(source.get(), table, columns);
    auto it = relations_.find(key);
    if (it != relations_.end()) {
        return it->second;
    }
    auto rel = std::make_shared<Relation>();
    rel->id = next_id_++;
    rel->schema = source->schema;
    rel->name = table;
    rel->version = source->version;
    for (const std::string& c : columns) {
        SourceColumn col;
        col.name = c;
        auto same = std::find_if(source->columns.begin(), source->columns.end(),
                                 [&](const SourceColumn& s) { return s.name == c; });
        if (same != source->columns.end()) {
            col.type_oid = same->type_oid;
            col.type_mod = same->type_mod;
            col.is_key = same->is_key && table == source->name;
        }
        rel->columns.push_back(std::move(col));
    }
    // Keys are the script's to map (renamed, routed): the target's primary key decides, and
    // every row must carry it (the apply side checks each row has its key).
    rel->replica_identity = kScriptedIdentity;
    sources_.push_back(source);
    return relations_.emplace(key, std::move(rel)).first->second;
}

std::string ScriptStage::describe_key(const Mutation& m, const std::vector<Datum>& values) const {
    const Relation& rel = *m.relation;
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
