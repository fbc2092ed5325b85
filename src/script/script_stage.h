#pragma once

#include "core/mutation.h"
#include "source/row_stage.h"

#include "script/userscript.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>
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
    // `target_schema` exactly as --targetSchema gives it. Both must outlive the stage.
    ScriptStage(Userscript& script, std::string target_schema);

    void process(Mutation mutation, std::vector<Mutation>& out) override;

private:
    void run(const Mutation& m, MutationKind kind, const std::vector<Datum>& values,
             std::vector<Mutation>& out);
    void emit(const Mutation& m, MutationKind kind, const std::string& table, JSValueRef row,
              std::vector<Mutation>& out, const std::string& handler);
    std::shared_ptr<const Relation> relation_for(const std::shared_ptr<const Relation>& source,
                                                 const std::string& table,
                                                 const std::vector<std::string>& columns);
    std::string describe_key(const Mutation& m, const std::vector<Datum>& values) const;

    Userscript& script_;
    std::string target_schema_;
    Userscript::SchemaHandlers handlers_;
    JSObjectRef meta_template_ = nullptr;
    // Relations of the rows the script returns, one per source relation, table and column
    // list, so the apply side resolves each layout once.
    std::map<std::tuple<const Relation*, std::string, std::vector<std::string>>,
             std::shared_ptr<const Relation>>
        relations_;
    std::vector<std::shared_ptr<const Relation>> sources_;  // keeps the map's keys alive
    uint32_t next_id_ = 0x70000000;
};

}  // namespace rep::script
