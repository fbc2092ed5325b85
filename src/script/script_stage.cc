#include "script/script_stage.h"

#include "base/error.h"

#include "script/batch_text.h"
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <optional>

namespace rep::script {

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
    auto made =
        js.call(js.as_object(js.get(script_.exports(), "makeBatchStage")),
                {handlers_.on_upsert, handlers_.on_delete, js.string(target_schema_)}, &error);
    if (!made) {
        throw fatal("userscript stage: " + error.describe());
    }
    batch_ = js.as_object(*made);
    JSValueProtect(js.ctx(), batch_);
    run_ = js.as_object(js.get(batch_, "run"));
    // The row in progress (state.at, set as each row begins): the watchdog's measure of a row.
    state_ = js.as_object(js.get(batch_, "state"));
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
    JsArrayBuilder names(js.ctx());
    // The names as the source spells them (Oracle's upper case, as MOLT's Oracle scripts
    // expect); make_relation folds what the script gives back.
    for (const SourceColumn& c : rel->columns) {
        names.push_back(js.string(c.script_name()));
    }
    JsError error;
    if (!js.call(register_,
                 {JSValueMakeNumber(js.ctx(), l.id), names.get(),
                  js.string(rel->source_name.empty() ? rel->name : rel->source_name),
                  js.string(rel->source_schema.empty() ? rel->schema : rel->source_schema)},
                 &error, batch_)) {
        throw fatal("userscript stage: " + error.describe());
    }
    if (probe_ != nullptr) {
        l.on_upsert = probe_->script_series(rel->name, "onRowUpsert");
        l.on_delete = probe_->script_series(rel->name, "onRowDelete");
    }
    return layouts_.emplace(rel.get(), std::move(l)).first->second;
}

void ScriptStage::process(Mutation mutation, uint32_t tag, source::StagedRows& out) {
    if (handlers_.on_upsert == nullptr) {
        out.add(std::move(mutation), tag);  // no schema-level handlers for this schema
        return;
    }
    SourceLayout& layout = layout_of(mutation.relation);
    const Relation& rel = *mutation.relation;
    mutations_.push_back(std::move(mutation));
    Mutation& m = mutations_.back();
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
            // Inserted anew, the new row must be whole: a value it lacks (an unchanged
            // TOASTed one) is the old row's when the source sent that whole (REPLICA IDENTITY
            // FULL). Otherwise the row is moved on the target, which keeps the value, if the
            // script answers one delete and one row of one table (take_answer).
            std::string lacks;
            for (size_t i = 0; i < m.values.size() && i < rel.columns.size(); ++i) {
                if (m.values[i].absent() && i < m.old_values.size() && !m.old_values[i].absent()) {
                    m.values[i] = m.old_values[i];
                }
                if (m.values[i].absent() && lacks.empty()) {
                    lacks = rel.columns[i].name;
                }
            }
            add(index, MutationKind::kDelete, true, layout, tag);
            add(index, m.kind, false, layout, tag);
            pending_.back().lacks = std::move(lacks);
            if (pending_.size() >= batch_rows_ || input_.size() >= kBatchBytes) {
                run_batch(out);
            }
            return;
        }
    }
    add(index, m.kind, false, layout, tag);
    if (pending_.size() >= batch_rows_ || input_.size() >= kBatchBytes) {
        run_batch(out);
    }
}

void ScriptStage::flush(source::StagedRows& out) {
    if (!pending_.empty()) {
        run_batch(out);
    }
}

void ScriptStage::add(size_t mutation, MutationKind kind, bool old_values, SourceLayout& layout,
                      uint32_t tag) {
    Pending p{mutation, kind, old_values, &layout, tag, slots_};
    const Relation& rel = *layout.relation;
    const std::vector<Datum>& values = values_of(p);
    slots_ += values.size();
    bool upsert = kind == MutationKind::kUpsert;
    input_ += input_.empty() ? '[' : ',';
    char id[16];
    input_.append(id, std::to_chars(id, id + sizeof id, layout.id).ptr);
    input_ += upsert ? ",0" : ",1";
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
    pending_.push_back(p);
}

const std::vector<Datum>& ScriptStage::values_of(const Pending& p) const {
    const Mutation& m = mutations_[p.mutation];
    return p.old_values ? m.old_values : m.values;
}

std::vector<Datum>& ScriptStage::values_of(const Pending& p) {
    Mutation& m = mutations_[p.mutation];
    return p.old_values ? m.old_values : m.values;
}

void ScriptStage::clear_batch() {
    pending_.clear();
    mutations_.clear();
    input_.clear();
    slots_ = 0;
}

void ScriptStage::run_batch(source::StagedRows& out) {
    input_ += ']';
    JsContext& js = script_.js();
    std::vector<bool> produced(pending_.size(), false);
    auto started = std::chrono::steady_clock::now();
    std::optional<JSValueRef> text = js.utf8_text(input_);
    if (!text) {
        abandon(not_utf8());  // the batch never reached a handler
    }
    JsError error;
    std::optional<JSValueRef> answer;
    {
        // Each row gets the whole time limit, however long the batch runs.
        struct PerRow {
            JsContext& js;
            ~PerRow() { js.limit_per_step(nullptr); }
        } per_row{js};
        js.limit_per_step(state_, keys_.at.get());
        answer = js.call(run_, {*text}, &error, batch_);
    }
    if (!answer) {
        read_layouts();          // what the engine learnt before it stopped, for later batches
        fail(SIZE_MAX, &error);  // stopped by the time limit, or the engine failed
    }
    if (take_answer(*answer, out, produced) != pending_.size()) {
        abandon(fatal("userscript stage: the engine's answer did not cover the batch"));
    }
    if (probe_ != nullptr) {
        // One call served the batch: each row is charged its share of the time.
        double each =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() /
            static_cast<double>(pending_.size());
        // Counted per series (a batch holds rows of a few tables), not per row.
        struct Calls {
            metrics::Probe::ScriptSeries* series;
            uint64_t processed = 0, filtered = 0;
        };
        std::vector<Calls> calls;
        for (size_t i = 0; i < pending_.size(); ++i) {
            const Pending& p = pending_[i];
            auto* series =
                p.kind == MutationKind::kUpsert ? p.layout->on_upsert : p.layout->on_delete;
            auto it = std::find_if(calls.begin(), calls.end(),
                                   [&](const Calls& c) { return c.series == series; });
            if (it == calls.end()) {
                it = calls.insert(calls.end(), Calls{series});
            }
            ++(produced[i] ? it->processed : it->filtered);
        }
        for (const Calls& c : calls) {
            probe_->script_calls(c.series, each, c.processed, c.filtered);
        }
    }
    clear_batch();
}

size_t ScriptStage::take_answer(JSValueRef answer, source::StagedRows& out,
                                std::vector<bool>& produced) {
    JsContext& js = script_.js();
    // Nothing of a malformed answer goes on (the stage starts afresh, as after any failure).
    auto malformed = [this](const char* what) {
        abandon(
            fatal(fmt::format("userscript stage: the engine's answer is malformed ({})", what)));
    };
    // Copied before anything else calls into the engine.
    if (!js.int32s(answer, codes_)) {
        read_layouts();
        fail(SIZE_MAX, nullptr);  // no answer: the batch said what went wrong in its state
    }
    if (codes_.size() < 3 || codes_[0] < 0 || static_cast<size_t>(codes_[0]) > pending_.size() ||
        codes_[1] < 0 || codes_[2] < 0) {
        malformed("its counts");
    }
    auto done = static_cast<size_t>(codes_[0]);
    if (codes_[2] > 0) {
        read_layouts();
    }
    strings_.clear();
    if (codes_[1] > 0) {
        JSObjectRef texts = js.as_object(js.get(batch_, keys_.s));
        for (size_t i = 0, n = js.length(texts); i < n; ++i) {
            strings_.push_back(js.to_string(js.at(texts, static_cast<unsigned>(i))));
        }
    }
    // A value that goes out once moves from its source row (the row is done with); one that
    // goes out more often (rows fanned out) is copied. Codes >= 1 name the row's own values.
    uses_.assign(slots_, 0);
    answers_.assign(pending_.size(), 0);
    tables_.assign(pending_.size(), -1);
    for (size_t p = 3; p + 3 <= codes_.size();) {
        auto at = static_cast<size_t>(codes_[p]);
        auto names = out_names_.find(codes_[p + 2]);
        if (at >= pending_.size() || names == out_names_.end()) {
            break;  // malformed: the pass below says so
        }
        ++answers_[at];
        tables_[at] = codes_[p + 1];
        p += 3;
        size_t n = values_of(pending_[at]).size();
        for (size_t c = 0; c < names->second.size() && p < codes_.size(); ++c, ++p) {
            if (codes_[p] > 0 && static_cast<size_t>(codes_[p]) <= n) {
                uint8_t& uses = uses_[pending_[at].first_slot + codes_[p] - 1];
                uses = uses < 2 ? uses + 1 : 2;
            }
        }
    }
    // A key change lacking a value goes on as one move only if it was answered with one
    // delete and one row of one table; otherwise it stops, before any row goes out.
    auto table_name = [&](size_t at) {
        const Relation& rel = *mutations_[pending_[at].mutation].relation;
        int32_t t = tables_[at];
        return t <= 0 || static_cast<size_t>(t) > strings_.size()
                   ? rel.name
                   : target_name(rel, strings_[t - 1]);
    };
    for (size_t at = 1; at < pending_.size(); ++at) {
        if (!pending_[at].lacks.empty() && answers_[at] > 0 &&
            (answers_[at] != 1 || answers_[at - 1] != 1 || table_name(at) != table_name(at - 1))) {
            abandon(unsent_in_key_change(pending_[at], pending_[at].lacks));
        }
    }
    // Per row: index, table, layout, then one code per column (prelude.js, makeBatchStage).
    std::optional<Mutation> held;  // the delete of a key change that goes on as a move
    size_t p = 3;
    while (p < codes_.size()) {
        if (p + 3 > codes_.size()) {
            malformed("a row cut short");
        }
        auto at = static_cast<size_t>(codes_[p]);
        int32_t table = codes_[p + 1];
        int layout = codes_[p + 2];
        p += 3;
        auto names = out_names_.find(layout);
        if (at >= pending_.size() || table < 0 || static_cast<size_t>(table) > strings_.size() ||
            names == out_names_.end() || p + names->second.size() > codes_.size()) {
            malformed("a row's index, table or layout");
        }
        const Pending& pending = pending_[at];
        const Mutation& m = mutations_[pending.mutation];
        std::vector<Datum>& values = values_of(pending);
        produced[at] = true;
        Mutation result;
        result.kind = pending.kind;
        result.relation = relation_for(
            m.relation,
            table == 0 ? m.relation->name : target_name(*m.relation, strings_[table - 1]), layout);
        if (!pending.lacks.empty() && (!held || held->relation->schema != result.relation->schema ||
                                       held->relation->name != result.relation->name)) {
            abandon(unsent_in_key_change(pending, pending.lacks));  // before values move
        }
        result.values.reserve(names->second.size());
        for (size_t c = 0; c < names->second.size(); ++c, ++p) {
            int32_t code = codes_[p];
            if (code > 0 && static_cast<size_t>(code) <= values.size()) {
                // The source's own text.
                if (uses_[pending.first_slot + code - 1] == 1) {
                    result.values.push_back(std::move(values[code - 1]));
                } else {
                    result.values.push_back(values[code - 1]);
                }
            } else if (code == 0) {
                result.values.emplace_back();  // not sent: the target keeps its value
            } else if (code == -1) {
                result.values.push_back(Datum::null());
            } else if (code <= -2 && static_cast<uint64_t>(-2 - int64_t{code}) < strings_.size()) {
                result.values.push_back(Datum::value(strings_[-2 - int64_t{code}]));
            } else {
                malformed("a value's code");
            }
        }
        if (pending.old_values && at + 1 < pending_.size() && !pending_[at + 1].lacks.empty() &&
            answers_[at] == 1 && answers_[at + 1] == 1) {
            held = std::move(result);  // goes with the next row, as one change of key
            continue;
        }
        if (!pending.lacks.empty()) {
            result.old_values = old_key_for(*held, result);
            held.reset();
        }
        out.add(std::move(result), pending.tag);
    }
    return done;
}

std::vector<Datum> ScriptStage::old_key_for(Mutation& removed, const Mutation& row) {
    // The delete's values by the new row's column names: its key, under the names the
    // script gave both (BatchBuilder turns the pair into a move, or a delete and an insert).
    std::vector<Datum> old(row.values.size());
    const auto& from = removed.relation->columns;
    const auto& to = row.relation->columns;
    for (size_t i = 0; i < to.size() && i < old.size(); ++i) {
        for (size_t j = 0; j < from.size() && j < removed.values.size(); ++j) {
            if (from[j].name == to[i].name) {
                old[i] = std::move(removed.values[j]);
                break;
            }
        }
    }
    return old;
}

void ScriptStage::read_layouts() {
    // The answer layouts the engine numbered in this call (the batch object's `l`): they are
    // known to the engine from now on, whether or not the call went on to fail.
    JsContext& js = script_.js();
    JSObjectRef fresh = js.as_object(js.get(batch_, keys_.l));
    for (size_t i = 0, n = js.length(fresh); i < n; ++i) {
        JSObjectRef layout = js.as_object(js.at(fresh, static_cast<unsigned>(i)));
        JSObjectRef names = js.as_object(js.at(layout, 1));
        std::vector<std::string> columns;
        for (size_t c = 0, k = js.length(names); c < k; ++c) {
            columns.push_back(js.to_string(js.at(names, static_cast<unsigned>(c))));
        }
        out_names_[static_cast<int>(js.number(js.at(layout, 0)))] = std::move(columns);
    }
}

std::shared_ptr<const Relation> ScriptStage::relation_for(
    const std::shared_ptr<const Relation>& source, const std::string& table, int layout) {
    // Consecutive rows mostly share their layout: the last answer is checked first, without
    // building a key.
    if (last_relation_ != nullptr && last_source_ == source.get() && last_layout_ == layout &&
        last_table_ == table) {
        return last_relation_;
    }
    auto key = std::make_tuple(source.get(), table, layout);
    auto it = relations_.find(key);
    if (it == relations_.end()) {
        it = relations_.emplace(key, make_relation(*source, table, layout)).first;
    }
    last_source_ = source.get();
    last_table_ = table;
    last_layout_ = layout;
    last_relation_ = it->second;
    return last_relation_;
}

std::shared_ptr<const Relation> ScriptStage::make_relation(const Relation& source,
                                                           const std::string& table, int layout) {
    auto rel = std::make_shared<Relation>();
    rel->id = next_id_++;
    rel->schema = source.schema;
    rel->name = table;
    rel->version = source.version;
    for (const std::string& c : out_names_.at(layout)) {
        SourceColumn col;
        col.name = target_name(source, c);
        auto same = std::find_if(source.columns.begin(), source.columns.end(),
                                 [&](const SourceColumn& s) { return s.script_name() == c; });
        if (same != source.columns.end()) {
            col.name = same->name;
            col.type_oid = same->type_oid;
            col.type_mod = same->type_mod;
            col.is_key = same->is_key && table == source.name;
        }
        rel->columns.push_back(std::move(col));
    }
    // Keys are the script's to map (renamed, routed): the target's primary key decides, and
    // every row must carry it (the apply side checks each row has its key).
    rel->replica_identity = kScriptedIdentity;
    return rel;
}

std::string ScriptStage::target_name(const Relation& source, const std::string& script_name) {
    // A source whose names were folded for the target (Oracle) gets the names its script
    // gives folded the same way: {EMPLOYEES_ARCHIVE: [...]} reaches employees_archive.
    return source.source_name.empty() ? script_name : fold_upper_case(script_name);
}

}  // namespace rep::script
