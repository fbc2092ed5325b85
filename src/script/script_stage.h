#pragma once

#include "core/mutation.h"
#include "source/row_stage.h"

#include "metrics/probe.h"
#include "script/userscript.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace rep::script {

// The userscript's schema-level handlers (configureTargetSchema) as a RowStage between the
// source and the queue, on the source reader's thread: each row change goes to onRowUpsert
// or onRowDelete as a plain object of the source's column names and values (every value a
// string or null: numbers never lose precision), with `meta.schema` = the target schema and
// `meta.table` = the source table. The handler's answer replaces the row change:
//   null or undefined   the row change is dropped;
//   a row object        it goes to the table of the source's name, with the row's columns
//                       (columns left out are not written);
//   {table: [rows]}     each row goes to the named table (routing, renaming, fan-out).
// Values written back are strings, null, or turned into text (numbers and booleans by
// String(), objects and arrays as JSON). A source UPDATE that changes the key reaches the
// script as onRowDelete of the old key, then onRowUpsert of the new row.
//
// A handler that throws, runs past the time limit or answers something else stops
// replication with an error naming the script's position, the table and the row's key; the
// checkpoint does not move past the row's transaction, which comes again after a restart.
class ScriptStage final : public source::RowStage {
public:
    // `target_schema` exactly as --targetSchema gives it. The script and the probe (if any,
    // for the script_* metrics) must outlive the stage.
    ScriptStage(Userscript& script, std::string target_schema, metrics::Probe* probe = nullptr);
    ~ScriptStage() override;
    ScriptStage(const ScriptStage&) = delete;
    ScriptStage& operator=(const ScriptStage&) = delete;

    void process(Mutation mutation, std::vector<Mutation>& out) override;

private:
    // What the handlers see of one source layout, made once: the column names as engine
    // strings, and meta's values. Converting names between UTF-8 and the engine's UTF-16
    // for every row would cost more than the handler call itself.
    struct SourceLayout {
        std::shared_ptr<const Relation> relation;  // keeps the map's key alive
        std::vector<JSStringRef> names;
        JSValueRef table = nullptr;
        JSValueRef schema = nullptr;
        metrics::Probe::ScriptSeries* on_upsert = nullptr;  // with a probe
        metrics::Probe::ScriptSeries* on_delete = nullptr;
    };
    // One layout the script answered with for a (source layout, target table): its column
    // names as engine strings, to recognise it again without converting them.
    struct OutLayout {
        std::vector<JSStringRef> names;
        std::shared_ptr<const Relation> relation;
    };
    // A row object as the script returned it: property names and values, in order.
    struct Answer {
        std::vector<JSStringRef> names;  // owned by `array`
        std::vector<JSValueRef> values;
        JSPropertyNameArrayRef array = nullptr;
    };

    SourceLayout& layout_of(const std::shared_ptr<const Relation>& rel);
    void run(const Mutation& m, MutationKind kind, const std::vector<Datum>& values,
             std::vector<Mutation>& out);
    Answer read(JSObjectRef obj) const;
    void emit(const Mutation& m, MutationKind kind, const std::string& table, const Answer& row,
              const std::vector<Datum>& values, const std::vector<JSValueRef>& sent,
              std::vector<Mutation>& out, const char* handler);
    std::shared_ptr<const Relation> relation_for(const std::shared_ptr<const Relation>& source,
                                                 const std::string& table, const Answer& row);
    std::string describe_key(const Mutation& m, const std::vector<Datum>& values) const;

    Userscript& script_;
    std::string target_schema_;
    Userscript::SchemaHandlers handlers_;
    metrics::Probe* probe_;
    JSStringRef key_schema_, key_table_, key_source_schema_;
    JSValueRef target_schema_value_ = nullptr;
    std::unordered_map<const Relation*, SourceLayout> layouts_;
    std::map<std::pair<const Relation*, std::string>, std::vector<OutLayout>> out_layouts_;
    // Relations of the rows the script returns, one per source layout, table and column
    // list, so the apply side resolves each layout once.
    std::map<std::tuple<const Relation*, std::string, std::vector<std::string>>,
             std::shared_ptr<const Relation>>
        relations_;
    uint32_t next_id_ = 0x70000000;
};

}  // namespace rep::script
