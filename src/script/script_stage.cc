#include "script/script_stage.h"

#include "base/error.h"

#include "script/values.h"
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace rep::script {
ScriptStage::ScriptStage(Userscript& script, std::string target_schema, metrics::Probe* probe)
    : script_(script),
      target_schema_(std::move(target_schema)),
      handlers_(script.schema_handlers(target_schema_)),
      probe_(probe),
      key_schema_(JSStringCreateWithUTF8CString("schema")),
      key_table_(JSStringCreateWithUTF8CString("table")),
      key_source_schema_(JSStringCreateWithUTF8CString("sourceSchema")),
      target_schema_value_(script.js().string(target_schema_)) {
    JSValueProtect(script_.js().ctx(), target_schema_value_);
}

ScriptStage::~ScriptStage() {
    JSContextRef ctx = script_.js().ctx();
    for (auto& [rel, layout] : layouts_) {
        for (JSStringRef n : layout.names) {
            JSStringRelease(n);
        }
        JSValueUnprotect(ctx, layout.table);
        JSValueUnprotect(ctx, layout.schema);
    }
    for (auto& [key, layouts] : out_layouts_) {
        for (OutLayout& l : layouts) {
            for (JSStringRef n : l.names) {
                JSStringRelease(n);
            }
        }
    }
    JSValueUnprotect(ctx, target_schema_value_);
    JSStringRelease(key_schema_);
    JSStringRelease(key_table_);
    JSStringRelease(key_source_schema_);
}

ScriptStage::SourceLayout& ScriptStage::layout_of(const std::shared_ptr<const Relation>& rel) {
    auto it = layouts_.find(rel.get());
    if (it != layouts_.end()) {
        return it->second;
    }
    SourceLayout l;
    l.relation = rel;
    for (const SourceColumn& c : rel->columns) {
        l.names.push_back(JSStringCreateWithUTF8CString(c.name.c_str()));
    }
    JsContext& js = script_.js();
    l.table = js.string(rel->name);
    l.schema = js.string(rel->schema);
    JSValueProtect(js.ctx(), l.table);
    JSValueProtect(js.ctx(), l.schema);
    if (probe_ != nullptr) {
        l.on_upsert = probe_->script_series(rel->name, "onRowUpsert");
        l.on_delete = probe_->script_series(rel->name, "onRowDelete");
    }
    return layouts_.emplace(rel.get(), std::move(l)).first->second;
}

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
    JSContextRef ctx = js.ctx();
    const Relation& rel = *m.relation;
    SourceLayout& layout = layout_of(m.relation);
    bool upsert = kind == MutationKind::kUpsert;
    // The values handed to the script, by column: a value the script returns as it got it
    // (the same engine string) is written from the source's own text, with no conversion.
    std::vector<JSValueRef> sent(rel.columns.size(), nullptr);
    JSObjectRef row = JSObjectMake(ctx, nullptr, nullptr);
    for (size_t i = 0; i < rel.columns.size() && i < values.size(); ++i) {
        const Datum& d = values[i];
        if (d.absent() || (!upsert && !rel.columns[i].is_key)) {
            continue;  // not sent (an unchanged TOASTed value, a delete's non-key column)
        }
        sent[i] = d.is_null() ? JSValueMakeNull(ctx) : js.string(d.text);
        JSObjectSetProperty(ctx, row, layout.names[i], sent[i], kJSPropertyAttributeNone, nullptr);
    }
    JSObjectRef meta = JSObjectMake(ctx, nullptr, nullptr);
    JSObjectSetProperty(ctx, meta, key_schema_, target_schema_value_, kJSPropertyAttributeNone,
                        nullptr);
    JSObjectSetProperty(ctx, meta, key_table_, layout.table, kJSPropertyAttributeNone, nullptr);
    JSObjectSetProperty(ctx, meta, key_source_schema_, layout.schema, kJSPropertyAttributeNone,
                        nullptr);
    const char* handler = upsert ? "onRowUpsert" : "onRowDelete";
    JsError error;
    auto started = std::chrono::steady_clock::now();
    auto answer = js.call(upsert ? handlers_.on_upsert : handlers_.on_delete, {row, meta}, &error);
    if (probe_ != nullptr) {
        using Outcome = metrics::Probe::ScriptOutcome;
        bool dropped = answer && (JSValueIsNull(ctx, *answer) || JSValueIsUndefined(ctx, *answer));
        probe_->script_call(
            upsert ? layout.on_upsert : layout.on_delete,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
            !answer   ? Outcome::kError
            : dropped ? Outcome::kFiltered
                      : Outcome::kProcessed);
    }
    if (!answer) {
        throw fatal(fmt::format(
            "--userscript {}: {} threw for source table {}.{} (row {}): {}; nothing of this "
            "source transaction was applied, fix the script and run the same command again",
            script_.name(), handler, rel.schema, rel.name, describe_key(m, values),
            error.describe()));
    }
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
    Answer top = read(js.as_object(*answer));
    // A routing answer ({table: [rows]}): every property holds an array of objects. A row's
    // values are strings, null, or (JSON columns) objects and arrays of anything, so a row
    // whose every column is an array of objects reads as routing; return such a row as
    // {[meta.table]: [row]}.
    bool routing = !top.values.empty();
    std::vector<std::vector<JSObjectRef>> routed;
    for (JSValueRef v : top.values) {
        if (!routing) {
            break;
        }
        if (!js.is_array(v)) {
            routing = false;
            break;
        }
        JSObjectRef arr = js.as_object(v);
        size_t n = static_cast<size_t>(JSValueToNumber(ctx, js.get(arr, "length"), nullptr));
        routed.emplace_back();
        for (size_t i = 0; i < n && routing; ++i) {
            JSValueRef item =
                JSObjectGetPropertyAtIndex(ctx, arr, static_cast<unsigned>(i), nullptr);
            routing = js.is_object(item) && !js.is_array(item);
            routed.back().push_back(routing ? js.as_object(item) : nullptr);
        }
    }
    if (!routing) {
        emit(m, kind, rel.name, top, values, sent, out, handler);
    } else {
        for (size_t t = 0; t < top.names.size(); ++t) {
            std::string table = to_std_string(top.names[t]);
            for (JSObjectRef r : routed[t]) {
                Answer one = read(r);
                emit(m, kind, table, one, values, sent, out, handler);
                JSPropertyNameArrayRelease(one.array);
            }
        }
    }
    JSPropertyNameArrayRelease(top.array);
}

ScriptStage::Answer ScriptStage::read(JSObjectRef obj) const {
    JSContextRef ctx = script_.js().ctx();
    Answer a;
    a.array = JSObjectCopyPropertyNames(ctx, obj);
    size_t n = JSPropertyNameArrayGetCount(a.array);
    a.names.reserve(n);
    a.values.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        a.names.push_back(JSPropertyNameArrayGetNameAtIndex(a.array, i));
        a.values.push_back(JSObjectGetProperty(ctx, obj, a.names.back(), nullptr));
    }
    return a;
}

void ScriptStage::emit(const Mutation& m, MutationKind kind, const std::string& table,
                       const Answer& row, const std::vector<Datum>& values,
                       const std::vector<JSValueRef>& sent, std::vector<Mutation>& out,
                       const char* handler) {
    JsContext& js = script_.js();
    Mutation result;
    result.kind = kind;
    result.values.reserve(row.values.size());
    for (size_t c = 0; c < row.values.size(); ++c) {
        JSValueRef v = row.values[c];
        // Returned as it was sent (the usual case: the row passed on, or spread into a new
        // object): the source's text as it is.
        size_t k = c < sent.size() && sent[c] == v ? c : sent.size();
        for (size_t i = 0; k == sent.size() && i < sent.size(); ++i) {
            if (sent[i] == v && v != nullptr) {
                k = i;
            }
        }
        if (k < sent.size()) {
            result.values.push_back(values[k]);
            continue;
        }
        std::optional<Datum> d = datum_of(js, v);
        if (!d) {
            throw fatal(
                fmt::format("--userscript {}: {} returned column \"{}\" of table {} as a function; "
                            "values must be strings, numbers, booleans, null, objects or arrays",
                            script_.name(), handler, to_std_string(row.names[c]), table));
        }
        result.values.push_back(std::move(*d));
    }
    result.relation = relation_for(m.relation, table, row);
    out.push_back(std::move(result));
}

std::shared_ptr<const Relation> ScriptStage::relation_for(
    const std::shared_ptr<const Relation>& source, const std::string& table, const Answer& row) {
    // Fast path: a column list seen before for this source layout and table, recognised by
    // comparing engine strings.
    std::vector<OutLayout>& seen = out_layouts_[{source.get(), table}];
    for (const OutLayout& l : seen) {
        if (l.names.size() != row.names.size()) {
            continue;
        }
        bool same = true;
        for (size_t i = 0; i < l.names.size() && same; ++i) {
            same = JSStringIsEqual(l.names[i], row.names[i]);
        }
        if (same) {
            return l.relation;
        }
    }
    std::vector<std::string> columns;
    for (JSStringRef n : row.names) {
        columns.push_back(to_std_string(n));
    }
    auto key = std::make_tuple(source.get(), table, columns);
    auto it = relations_.find(key);
    if (it == relations_.end()) {
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
        // Keys are the script's to map (renamed, routed): the target's primary key decides,
        // and every row must carry it (the apply side checks each row has its key).
        rel->replica_identity = kScriptedIdentity;
        it = relations_.emplace(key, std::move(rel)).first;
    }
    if (seen.size() < 8) {  // a script that makes ever new layouts takes the slow path
        OutLayout l;
        for (JSStringRef n : row.names) {
            l.names.push_back(JSStringRetain(n));
        }
        l.relation = it->second;
        seen.push_back(std::move(l));
    }
    return it->second;
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
