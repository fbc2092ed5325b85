#include "script/write_ops.h"

#include "base/error.h"

#include "script/values.h"
#include <fmt/format.h>

namespace rep::script {

using RowWrite = sequencer::TableHooks::Transaction::RowWrite;

namespace {

// Column `c` of `row` (or the `c`th value after the target's columns: a move's old key).
JSValueRef text(JsContext& js, const target::Segment& s, const std::vector<Datum>& row, size_t c) {
    return handler_value(js, row[c], [&] {
        const target::TargetTable& t = s.mapping->target();
        const std::string& name =
            c < t.columns.size() ? t.columns[c].name : t.columns[t.pk[c - t.columns.size()]].name;
        return fmt::format("column \"{}\" of target table {} (row {}) for onWrite", name,
                           t.name.display(), s.mapping->describe_key(row));
    });
}

JSObjectRef key_array(JsContext& js, const target::Segment& s, const std::vector<Datum>& row) {
    JsArrayBuilder key(js.ctx());
    for (size_t i : s.mapping->target().pk) {
        key.push_back(text(js, s, row, i));
    }
    return key.get();
}

}  // namespace

JSObjectRef row_ops(JsContext& js, const std::vector<target::Segment>& segments,
                    const std::vector<JSStringRef>& names, size_t proto_at, JSObjectRef meta) {
    JSContextRef ctx = js.ctx();
    JsArrayBuilder ops(ctx);
    for (const target::Segment& s : segments) {
        const target::TargetTable& t = s.mapping->target();
        for (const std::vector<Datum>& row : s.rows) {
            JSObjectRef op = js.object();
            bool del = s.kind == target::SegmentKind::kDelete;
            js.set(op, "action", js.string(del ? "delete" : "upsert"));
            if (!del) {
                JSObjectRef data = js.object();
                for (size_t c : s.cols) {
                    if (!row[c].absent()) {
                        js.set_field(data, names[c], text(js, s, row, c), c == proto_at);
                    }
                }
                js.set(op, "data", data);
            }
            js.set(op, "pk", key_array(js, s, row));
            if (s.kind == target::SegmentKind::kMove) {
                // The old key follows the target's columns (segment_writer.h).
                JSObjectRef before = js.object();
                for (size_t i = 0; i < t.pk.size(); ++i) {
                    js.set_field(before, names[t.pk[i]], text(js, s, row, t.columns.size() + i),
                                 t.pk[i] == proto_at);
                }
                js.set(op, "before", before);
            }
            js.set(op, "meta", meta);
            ops.push_back(op);
        }
    }
    return ops.get();
}

std::vector<RowWrite> rows_of_ops(JsContext& js, JSValueRef ops, const target::TargetTable& table,
                                  const std::unordered_map<std::string, size_t>& index) {
    if (!js.is_array(ops)) {
        throw fatal(
            fmt::format("api.write() takes an array of RowOps (the ones onWrite received, "
                        "or made like them), not {}",
                        kind_name(js.ctx(), ops)));
    }
    JSObjectRef array = js.as_object(ops);
    size_t n = js.length(array);
    std::vector<RowWrite> out;
    out.reserve(n);
    const size_t width = table.columns.size();
    // Copies an object's properties into a target-ordered row.
    auto fill = [&](JSObjectRef obj, std::vector<Datum>& row, size_t op, const char* field) {
        for (const std::string& name : js.keys(obj)) {
            auto col = index.find(name);
            if (col == index.end()) {
                throw fatal(
                    fmt::format("api.write(): op {} has {}.{}, but table {} has no "
                                "column \"{}\"",
                                op, field, name, table.name.display(), name));
            }
            std::optional<Datum> d = datum_of(js, js.get(obj, name));
            if (!d) {
                throw fatal(
                    fmt::format("api.write(): op {} has {}.{} as a function", op, field, name));
            }
            row[col->second] = std::move(*d);
        }
    };
    for (size_t i = 0; i < n; ++i) {
        JSValueRef item =
            JSObjectGetPropertyAtIndex(js.ctx(), array, static_cast<unsigned>(i), nullptr);
        if (!js.is_object(item) || js.is_array(item)) {
            throw fatal(
                fmt::format("api.write(): op {} is {}, not a RowOp", i, kind_name(js.ctx(), item)));
        }
        JSObjectRef op = js.as_object(item);
        std::string action = js.to_string(js.get(op, "action"));
        RowWrite w;
        w.row.assign(width, Datum{});
        if (action == "delete") {
            w.kind = MutationKind::kDelete;
            JSValueRef pk = js.get(op, "pk");
            if (js.is_array(pk)) {
                JSObjectRef keys = js.as_object(pk);
                if (js.length(keys) != table.pk.size()) {
                    throw fatal(
                        fmt::format("api.write(): op {} deletes with {} key values, but "
                                    "the primary key of {} has {} columns",
                                    i, js.length(keys), table.name.display(), table.pk.size()));
                }
                for (size_t k = 0; k < table.pk.size(); ++k) {
                    std::optional<Datum> d =
                        datum_of(js, JSObjectGetPropertyAtIndex(js.ctx(), keys,
                                                                static_cast<unsigned>(k), nullptr));
                    if (d) {
                        w.row[table.pk[k]] = std::move(*d);
                    }
                }
            } else if (JSValueRef data = js.get(op, "data"); js.is_object(data)) {
                fill(js.as_object(data), w.row, i, "data");
            }
        } else if (action == "upsert") {
            JSValueRef data = js.get(op, "data");
            if (!js.is_object(data) || js.is_array(data)) {
                throw fatal(
                    fmt::format("api.write(): op {} is an upsert without a data object", i));
            }
            fill(js.as_object(data), w.row, i, "data");
            if (JSValueRef before = js.get(op, "before"); js.is_object(before)) {
                std::vector<Datum> old(width, Datum{});
                fill(js.as_object(before), old, i, "before");
                bool whole_key = true;
                for (size_t k : table.pk) {
                    whole_key = whole_key && !old[k].absent();
                }
                if (whole_key) {
                    w.old_key = std::move(old);
                }
            }
        } else {
            throw fatal(
                fmt::format("api.write(): op {} has action \"{}\"; it must be \"upsert\" "
                            "or \"delete\"",
                            i, action));
        }
        out.push_back(std::move(w));
    }
    return out;
}

}  // namespace rep::script
