#include "script/apply_handlers.h"

#include "base/error.h"

#include "script/values.h"
#include "script/write_ops.h"
#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <memory>

namespace rep::script {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point started) {
    return std::chrono::duration<double>(Clock::now() - started).count();
}

bool is_nothing(JSContextRef ctx, JSValueRef v) {
    return JSValueIsNull(ctx, v) || JSValueIsUndefined(ctx, v);
}

}  // namespace

ApplyHandlers::ApplyHandlers(ApplyHandlersOptions options) : options_(std::move(options)) {
    options_.script.reload = true;
    options_.script.natives = natives();
}

ApplyHandlers::~ApplyHandlers() {
    if (!script_) {
        return;
    }
    JSContextRef ctx = script_->js().ctx();
    for (auto& [name, t] : tables_) {
        for (JSStringRef n : t.names) {
            JSStringRelease(n);
        }
        JSValueUnprotect(ctx, t.table_name);
    }
    JSValueUnprotect(ctx, schema_value_);
}

Userscript& ApplyHandlers::script() {
    if (!script_) {
        // On the worker's thread, at its first row of a table: the script loaded once already
        // (at start-up), so its files come from the module cache and it cannot fail to compile.
        script_ = std::make_unique<Userscript>(options_.script);
        schema_value_ = script_->js().string(options_.target_schema);
        JSValueProtect(script_->js().ctx(), schema_value_);
    }
    return *script_;
}

ApplyHandlers::Table& ApplyHandlers::table(const target::TargetTable& target) {
    std::string display = target.name.display();
    auto it = tables_.find(display);
    if (it != tables_.end()) {
        return it->second;
    }
    Userscript& us = script();
    JsContext& js = us.js();
    Table t;
    t.display = display;
    const std::string& table = target.name.table;
    std::string configured =
        configured_name_for(us.configured_tables(), target.name, options_.target_schema);
    if (!configured.empty()) {
        t.handlers = us.table_handlers(configured);
    }
    for (size_t i = 0; i < target.columns.size(); ++i) {
        t.names.push_back(JSStringCreateWithUTF8CString(target.columns[i].name.c_str()));
        t.index.emplace(target.columns[i].name, i);
        if (target.columns[i].name == "__proto__") {
            t.proto_at = i;
        }
    }
    t.table_name = js.string(table);
    JSValueProtect(js.ctx(), t.table_name);
    if (options_.probe != nullptr && t.handlers) {
        t.on_upsert = options_.probe->script_series(table, "onRowUpsert");
        t.on_delete = options_.probe->script_series(table, "onRowDelete");
        t.on_write = options_.probe->script_series(table, "onWrite");
    }
    return tables_.emplace(display, std::move(t)).first->second;
}

bool ApplyHandlers::has_row_handlers(const target::TargetTable& t) {
    const Table& e = table(t);
    return e.handlers && e.handlers->on_upsert != nullptr;
}

bool ApplyHandlers::has_on_write(const target::TargetTable& t) {
    const Table& e = table(t);
    return e.handlers && e.handlers->on_write != nullptr;
}

JSObjectRef ApplyHandlers::meta(const Table& t) {
    JsContext& js = script().js();
    JSObjectRef m = js.object();
    js.set(m, "schema", schema_value_);
    js.set(m, "table", t.table_name);
    return m;
}

JSValueRef ApplyHandlers::call(JSObjectRef fn, const std::vector<JSValueRef>& args,
                               metrics::Probe::ScriptSeries* series, const char* handler,
                               const Table& t, const std::function<std::string()>& row) {
    JsContext& js = script().js();
    JsError error;
    auto started = Clock::now();
    auto answer = js.call(fn, args, &error);
    if (options_.probe != nullptr && series != nullptr) {
        using Outcome = metrics::Probe::ScriptOutcome;
        options_.probe->script_call(series, seconds_since(started),
                                    !answer                         ? Outcome::kError
                                    : is_nothing(js.ctx(), *answer) ? Outcome::kFiltered
                                                                    : Outcome::kProcessed);
    }
    if (!answer) {
        throw fatal(fmt::format(
            "--userscript {}: {} threw for target table {} (row {}): {}; nothing of this source "
            "transaction was applied, fix the script and run the same command again",
            script().name(), handler, t.display, row(), error.describe()));
    }
    return *answer;
}

bool ApplyHandlers::upsert(const target::TableMapping& mapping, std::vector<Datum>& row) {
    Table& t = table(mapping.target());
    JsContext& js = script().js();
    JSContextRef ctx = js.ctx();
    // A value returned as it was sent is written from the source's own text. The values
    // sent stay reachable from `keep` until they are compared: a handler that drops one could
    // otherwise let a new value take its address, and be taken for it.
    // The row's key, for messages only: built when one is needed, not for every row.
    auto key = [&] { return mapping.describe_key(row); };
    std::vector<JSValueRef> sent(row.size(), nullptr);
    JsArrayBuilder keep(ctx);
    JSObjectRef obj = js.object();
    for (size_t i = 0; i < row.size(); ++i) {
        if (!row[i].absent()) {
            sent[i] = handler_value(js, row[i], [&] {
                return fmt::format("column \"{}\" of target table {} (row {})",
                                   mapping.target().columns[i].name, t.display, key());
            });
            keep.push_back(sent[i]);
            js.set_field(obj, t.names[i], sent[i], i == t.proto_at);
        }
    }
    JSValueRef answer =
        call(t.handlers->on_upsert, {obj, meta(t)}, t.on_upsert, "onRowUpsert", t, key);
    if (is_nothing(ctx, answer)) {
        return false;
    }
    if (!js.is_object(answer) || js.is_array(answer)) {
        throw fatal(fmt::format(
            "--userscript {}: onRowUpsert returned {} for target table {} (row {}); return the "
            "row, or null to skip it (a table-level handler cannot route rows)",
            script().name(), kind_name(ctx, answer), t.display, key()));
    }
    JSObjectRef out_obj = js.as_object(answer);
    std::vector<Datum> out(row.size());
    // Released however the loop ends (a column's text may fail to convert and throw).
    std::unique_ptr<OpaqueJSPropertyNameArray, void (*)(JSPropertyNameArrayRef)> held(
        JSObjectCopyPropertyNames(ctx, out_obj), JSPropertyNameArrayRelease);
    JSPropertyNameArrayRef names = held.get();
    size_t n = JSPropertyNameArrayGetCount(names);
    for (size_t i = 0; i < n; ++i) {
        JSStringRef name = JSPropertyNameArrayGetNameAtIndex(names, i);
        std::string column = to_std_string(name);
        auto col = t.index.find(column);
        if (col == t.index.end()) {
            throw fatal(fmt::format(
                "--userscript {}: onRowUpsert returned column \"{}\" for target table {} (row "
                "{}), which has no such column; a table-level handler answers with the "
                "table's own columns",
                script().name(), column, t.display, key()));
        }
        JSValueRef v = JSObjectGetProperty(ctx, out_obj, name, nullptr);
        if (v == sent[col->second]) {
            out[col->second] = row[col->second];
            continue;
        }
        std::optional<Datum> d = datum_of(js, v);
        if (!d) {
            throw fatal(fmt::format(
                "--userscript {}: onRowUpsert returned column \"{}\" of table {} as a function",
                script().name(), column, t.display));
        }
        out[col->second] = std::move(*d);
    }
    row = std::move(out);
    return true;
}

bool ApplyHandlers::remove(const target::TableMapping& mapping, std::vector<Datum>& row) {
    Table& t = table(mapping.target());
    JsContext& js = script().js();
    JSContextRef ctx = js.ctx();
    const std::vector<size_t>& pk = mapping.target().pk;
    auto key = [&] { return mapping.describe_key(row); };
    JsArrayBuilder values(ctx);
    for (size_t i : pk) {
        values.push_back(handler_value(js, row[i], [&] {
            return fmt::format("key column \"{}\" of target table {} (row {})",
                               mapping.target().columns[i].name, t.display, key());
        }));
    }
    JSValueRef answer =
        call(t.handlers->on_delete, {values.get(), meta(t)}, t.on_delete, "onRowDelete", t, key);
    if (is_nothing(ctx, answer)) {
        return false;
    }
    size_t n = js.is_array(answer) ? js.length(js.as_object(answer)) : 0;
    if (!js.is_array(answer) || n != pk.size()) {
        throw fatal(fmt::format(
            "--userscript {}: onRowDelete returned {} for target table {} (row {}); return the "
            "{} primary key values it received (changed or not), or null to skip the delete",
            script().name(),
            js.is_array(answer) ? fmt::format("an array of {}", n) : kind_name(ctx, answer),
            t.display, key(), pk.size()));
    }
    JSObjectRef arr = js.as_object(answer);
    std::vector<Datum> keys;  // into `row` once all are read, so errors name the old key
    keys.reserve(pk.size());
    for (size_t k = 0; k < pk.size(); ++k) {
        JSValueRef v = JSObjectGetPropertyAtIndex(ctx, arr, static_cast<unsigned>(k), nullptr);
        std::optional<Datum> d = datum_of(js, v);
        if (!d || d->absent()) {
            throw fatal(fmt::format(
                "--userscript {}: onRowDelete returned {} as key value {} for target table {} "
                "(row {})",
                script().name(), kind_name(ctx, v), k + 1, t.display, key()));
        }
        keys.push_back(std::move(*d));
    }
    for (size_t k = 0; k < pk.size(); ++k) {
        row[pk[k]] = std::move(keys[k]);
    }
    return true;
}

}  // namespace rep::script
