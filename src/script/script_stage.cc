#include "script/script_stage.h"

#include "base/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>

namespace rep::script {
namespace {

// Appends `s` as a JSON string. Values are UTF-8 text (the sources render them so), which
// JSON carries as it is; only quotes, backslashes and control characters need escapes.
void append_json(std::string& out, const std::string& s) {
    out += '"';
    size_t run = 0;  // start of the characters not yet copied
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c != '"' && c != '\\' && c >= 0x20) {
            continue;
        }
        out.append(s, run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += fmt::format("\\u{:04x}", c);
        }
    }
    out.append(s, run, s.size() - run);
    out += '"';
}

// Reads a batch's answer (prelude.js, makeBatchStage) as it is parsed, without building a
// document: {"l": [[layout, [names]]...], "r": [[row, table | 0, layout, values...]...],
// "d": rows done}. Each row goes to `on_row` as soon as it is complete.
class AnswerReader final : public nlohmann::json_sax<nlohmann::json> {
public:
    struct Row {
        size_t at = 0;
        std::string table;  // empty: the source table's
        int layout = 0;
        // A value: a string, null, or k (0: not sent, k >= 1: the input's k-th value).
        struct Value {
            enum class Kind : uint8_t { kText, kNull, kInput } kind;
            std::string text;
            size_t input = 0;
        };
        std::vector<Value> values;
    };
    using Layout = std::function<void(int, std::vector<std::string>)>;
    using RowFn = std::function<void(Row&)>;
    AnswerReader(Layout on_layout, RowFn on_row)
        : on_layout_(std::move(on_layout)), on_row_(std::move(on_row)) {}
    size_t done() const { return done_; }

    bool null() override { return value(Row::Value{Row::Value::Kind::kNull, {}, 0}); }
    bool boolean(bool /*val*/) override { return false; }
    bool number_integer(number_integer_t val) override {
        return number(static_cast<uint64_t>(val));
    }
    bool number_unsigned(number_unsigned_t val) override { return number(val); }
    bool number_float(number_float_t /*val*/, const string_t& /*s*/) override { return false; }
    bool string(string_t& val) override {
        if (section_ == 'l' && depth_ == 4) {
            names_.push_back(std::move(val));
            return true;
        }
        if (section_ == 'r' && depth_ == 3 && element_ == 1) {
            row_.table = std::move(val);
            ++element_;
            return true;
        }
        return value(Row::Value{Row::Value::Kind::kText, std::move(val), 0});
    }
    bool binary(binary_t& /*val*/) override { return false; }
    bool start_object(std::size_t /*elements*/) override { return ++depth_ == 1; }
    bool key(string_t& val) override {
        section_ = val.empty() ? '?' : val[0];
        return true;
    }
    bool end_object() override {
        --depth_;
        return true;
    }
    bool start_array(std::size_t /*elements*/) override {
        ++depth_;
        if (depth_ == 3) {
            element_ = 0;
            names_.clear();
            row_.table.clear();
            row_.values.clear();
        }
        return true;
    }
    bool end_array() override {
        if (depth_ == 3 && section_ == 'l') {
            on_layout_(row_.layout, std::move(names_));
            names_ = {};
        } else if (depth_ == 3 && section_ == 'r') {
            on_row_(row_);
        }
        --depth_;
        return true;
    }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& /*ex*/) override {
        return false;
    }

private:
    bool number(uint64_t n) {
        if (depth_ == 1 && section_ == 'd') {
            done_ = n;
            return true;
        }
        if (depth_ == 3 && section_ == 'l') {
            row_.layout = static_cast<int>(n);
            return true;
        }
        if (depth_ == 3 && section_ == 'r') {
            switch (element_++) {
                case 0:
                    row_.at = n;
                    return true;
                case 1:
                    return true;  // 0: the source table's
                case 2:
                    row_.layout = static_cast<int>(n);
                    return true;
                default:
                    row_.values.push_back(Row::Value{Row::Value::Kind::kInput, {}, n});
                    return true;
            }
        }
        return false;
    }
    bool value(Row::Value v) {
        if (depth_ != 3 || section_ != 'r' || element_ < 3) {
            return false;
        }
        ++element_;
        row_.values.push_back(std::move(v));
        return true;
    }

    Layout on_layout_;
    RowFn on_row_;
    int depth_ = 0;
    char section_ = '?';
    size_t element_ = 0;
    size_t done_ = 0;
    std::vector<std::string> names_;
    Row row_;
};

}  // namespace

ScriptStage::ScriptStage(Userscript& script, std::string target_schema, metrics::Probe* probe,
                         size_t batch_rows)
    : script_(script),
      target_schema_(std::move(target_schema)),
      handlers_(script.schema_handlers(target_schema_)),
      probe_(probe),
      batch_rows_(std::max<size_t>(1, batch_rows)) {
    if (handlers_.on_upsert == nullptr) {
        return;  // nothing configured for this schema: rows pass through
    }
    JsContext& js = script_.js();
    JsError error;
    auto made = js.call(js.as_object(js.get(script_.exports(), "makeBatchStage")),
                        {handlers_.on_upsert, handlers_.on_delete, js.string(target_schema_),
                         JSValueMakeNumber(js.ctx(), static_cast<double>(js.time_limit().count()))},
                        &error);
    if (!made) {
        throw fatal("userscript stage: " + error.describe());
    }
    batch_ = js.as_object(*made);
    JSValueProtect(js.ctx(), batch_);
    run_ = js.as_object(js.get(batch_, "run"));
    resume_ = js.as_object(js.get(batch_, "resume"));
    register_ = js.as_object(js.get(batch_, "register"));
}

ScriptStage::~ScriptStage() {
    if (batch_ != nullptr) {
        JSValueUnprotect(script_.js().ctx(), batch_);
    }
}

ScriptStage::SourceLayout& ScriptStage::layout_of(const std::shared_ptr<const Relation>& rel) {
    auto it = layouts_.find(rel.get());
    if (it != layouts_.end()) {
        return it->second;
    }
    SourceLayout l;
    l.id = static_cast<int>(layouts_.size());
    l.relation = rel;
    JsContext& js = script_.js();
    std::vector<JSValueRef> names;
    names.reserve(rel->columns.size());
    for (const SourceColumn& c : rel->columns) {
        names.push_back(js.string(c.name));
    }
    JsError error;
    if (!js.call(register_,
                 {JSValueMakeNumber(js.ctx(), l.id), js.array(names), js.string(rel->name),
                  js.string(rel->schema)},
                 &error, batch_)) {
        throw fatal("userscript stage: " + error.describe());
    }
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
    SourceLayout& layout = layout_of(mutation.relation);
    const Relation& rel = *mutation.relation;
    mutations_.push_back(std::move(mutation));
    const Mutation& m = mutations_.back();
    size_t index = mutations_.size() - 1;
    if (m.kind == MutationKind::kUpsert && !m.old_values.empty()) {
        // An UPDATE that changed the key: the script sees a delete of the old key and an
        // upsert of the new row, so a renamed or routed key moves as the script says.
        bool key_changed = false;
        for (size_t i = 0; i < rel.columns.size() && i < m.old_values.size(); ++i) {
            const Datum& o = m.old_values[i];
            if (rel.columns[i].is_key && !o.absent() &&
                (o.kind != m.values[i].kind || o.text != m.values[i].text)) {
                key_changed = true;
            }
        }
        if (key_changed) {
            add(index, MutationKind::kDelete, true, layout);
        }
    }
    add(index, m.kind, false, layout);
    if (pending_.size() >= batch_rows_) {
        run_batch(out);
    }
}

void ScriptStage::flush(std::vector<Mutation>& out) {
    if (!pending_.empty()) {
        run_batch(out);
    }
}

void ScriptStage::add(size_t mutation, MutationKind kind, bool old_values, SourceLayout& layout) {
    Pending p{mutation, kind, old_values, &layout};
    const Relation& rel = *layout.relation;
    const std::vector<Datum>& values = values_of(p);
    bool upsert = kind == MutationKind::kUpsert;
    input_ += input_.empty() ? '[' : ',';
    input_ += fmt::format("[{},{}", layout.id, upsert ? 0 : 1);
    for (size_t i = 0; i < rel.columns.size(); ++i) {
        const Datum* d = i < values.size() ? &values[i] : nullptr;
        // Not sent: an unchanged TOASTed value, a delete's non-key column.
        if (d == nullptr || d->absent() || (!upsert && !rel.columns[i].is_key)) {
            input_ += ",0";
        } else if (d->is_null()) {
            input_ += ",null";
        } else {
            input_ += ',';
            append_json(input_, d->text);
        }
    }
    input_ += ']';
    pending_.push_back(p);
}

const std::vector<Datum>& ScriptStage::values_of(const Pending& p) const {
    const Mutation& m = mutations_[p.mutation];
    return p.old_values ? m.old_values : m.values;
}

void ScriptStage::run_batch(std::vector<Mutation>& out) {
    input_ += ']';
    JsContext& js = script_.js();
    std::vector<bool> produced(pending_.size(), false);
    auto started = std::chrono::steady_clock::now();
    size_t done = 0;
    while (done < pending_.size()) {
        JsError error;
        auto answer =
            done == 0 ? js.call(run_, {js.string(input_)}, &error, batch_)
                      : js.call(resume_, {JSValueMakeNumber(js.ctx(), static_cast<double>(done))},
                                &error, batch_);
        if (!answer) {
            fail(SIZE_MAX, &error);  // stopped by the time limit, or the engine failed
        }
        std::string text = js.to_string(*answer);
        if (text.empty()) {
            fail(SIZE_MAX, nullptr);  // the batch said what went wrong in its state
        }
        done = take_answer(text, out, produced);
    }
    if (probe_ != nullptr) {
        // One call served the batch: each row is charged its share of the time.
        double each =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() /
            static_cast<double>(pending_.size());
        using Outcome = metrics::Probe::ScriptOutcome;
        for (size_t i = 0; i < pending_.size(); ++i) {
            const Pending& p = pending_[i];
            probe_->script_call(
                p.kind == MutationKind::kUpsert ? p.layout->on_upsert : p.layout->on_delete, each,
                produced[i] ? Outcome::kProcessed : Outcome::kFiltered);
        }
    }
    pending_.clear();
    mutations_.clear();
    input_.clear();
}

size_t ScriptStage::take_answer(const std::string& text, std::vector<Mutation>& out,
                                std::vector<bool>& produced) {
    using Value = AnswerReader::Row::Value;
    AnswerReader reader(
        [this](int layout, std::vector<std::string> names) {
            out_names_[layout] = std::move(names);
        },
        [&](AnswerReader::Row& row) {
            const Pending& p = pending_.at(row.at);
            const Mutation& m = mutations_[p.mutation];
            const std::vector<Datum>& values = values_of(p);
            produced[row.at] = true;
            Mutation result;
            result.kind = p.kind;
            result.values.reserve(row.values.size());
            for (Value& v : row.values) {
                switch (v.kind) {
                    case Value::Kind::kText:
                        result.values.push_back(Datum::value(std::move(v.text)));
                        break;
                    case Value::Kind::kNull:
                        result.values.push_back(Datum::null());
                        break;
                    case Value::Kind::kInput:
                        // 0: not sent (the target keeps its value); k: the source's own text.
                        result.values.push_back(v.input == 0 ? Datum{} : values.at(v.input - 1));
                        break;
                }
            }
            result.relation = relation_for(
                m.relation, row.table.empty() ? m.relation->name : row.table, row.layout);
            out.push_back(std::move(result));
        });
    if (!nlohmann::json::sax_parse(text, &reader)) {
        throw fatal("userscript stage: the engine's answer could not be read");
    }
    return reader.done();
}

void ScriptStage::fail(size_t at, const JsError* error) {
    Error e = failure(at, error);
    // Nothing of the batch goes on; the stage starts afresh (the source sends the
    // transaction again after a restart).
    pending_.clear();
    mutations_.clear();
    input_.clear();
    throw e;
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
        // The batch never reached a handler: the engine could not take its text (the UTF-8
        // conversion of a value that is not UTF-8 gives an empty string).
        return fatal(fmt::format(
            "--userscript {}: a batch of {} row changes (the first from table {}.{}, row {}) "
            "could not be handed to the engine{}; the rows' values must be valid UTF-8 text",
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

std::shared_ptr<const Relation> ScriptStage::relation_for(
    const std::shared_ptr<const Relation>& source, const std::string& table, int layout) {
    auto key = std::make_tuple(source.get(), table, layout);
    auto it = relations_.find(key);
    if (it != relations_.end()) {
        return it->second;
    }
    auto rel = std::make_shared<Relation>();
    rel->id = next_id_++;
    rel->schema = source->schema;
    rel->name = table;
    rel->version = source->version;
    for (const std::string& c : out_names_.at(layout)) {
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
    return relations_.emplace(key, std::move(rel)).first->second;
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
