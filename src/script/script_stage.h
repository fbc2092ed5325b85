#pragma once

#include "base/error.h"
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
// source and the queue, on a thread of its own (app/pipeline.cc): each row change goes to
// onRowUpsert or onRowDelete as a plain object of the source's column names and values (every value
// a string or null: numbers never lose precision), with `meta.schema` = the target schema and
// `meta.table` = the source table, all as the source spells them (Relation::source_name:
// Oracle's upper case; names given back are folded for the target, target_name). The
// handler's answer replaces the row change:
//   null or undefined   the row change is dropped;
//   a row object        it goes to the table of the source's name, with the row's columns
//                       (columns left out are not written);
//   {table: [rows]}     each row goes to the named table (routing, renaming, fan-out).
// Values written back are strings, null, or turned into text (numbers and booleans by
// String(), objects and arrays as JSON). A source UPDATE that changes the key reaches the
// script as onRowDelete of the old key, then onRowUpsert of the new row.
//
// Rows cross into the engine in batches (up to `batch_rows`: one JSON text in, one array of
// numbers back; see makeBatchStage in prelude.js), so the cost of entering the engine is
// paid per batch: the stage holds rows back until the batch is full or flush() is called,
// which the stage thread does once for all it took from the queue (run_items, many
// transactions; every row comes back with the tag it went in with). A value the handler
// returns unchanged, or under another name, is written from the source's own text.
//
// A handler that throws, runs past the time limit or answers something else stops
// replication with an error naming the script's position, the table and the row's key; the
// checkpoint does not move past the row's transaction, which comes again after a restart.
class ScriptStage final : public source::RowStage {
public:
    static constexpr size_t kBatchRows = 256;
    // A batch also ends once its text is this long, so only a single row change can pass
    // what one JavaScript string holds.
    static constexpr size_t kBatchBytes = size_t{16} << 20;

    // `target_schema` exactly as --targetSchema gives it. The script and the probe (if any,
    // for the script_* metrics) must outlive the stage.
    ScriptStage(Userscript& script, std::string target_schema, metrics::Probe* probe = nullptr,
                size_t batch_rows = kBatchRows);
    ~ScriptStage() override;
    ScriptStage(const ScriptStage&) = delete;
    ScriptStage& operator=(const ScriptStage&) = delete;

    void process(Mutation mutation, uint32_t tag, source::StagedRows& out) override;
    void flush(source::StagedRows& out) override;

private:
    // A source layout as the engine knows it (registered once).
    struct SourceLayout {
        int id = 0;
        std::shared_ptr<const Relation> relation;           // keeps the map's key alive
        metrics::Probe::ScriptSeries* on_upsert = nullptr;  // with a probe
        metrics::Probe::ScriptSeries* on_delete = nullptr;
    };
    // A row change waiting for the batch: a mutation (or, for a key change, its old key as a
    // delete) and what the handler is to see.
    struct Pending {
        size_t mutation;  // into mutations_
        MutationKind kind;
        bool old_values;  // the delete of a key change: the mutation's old values
        SourceLayout* layout;
        uint32_t tag;       // the caller's, for every row that replaces this one
        size_t first_slot;  // its values' first place in uses_
        // The upsert of a key change whose new row lacks a value no old row supplied (an
        // unchanged TOASTed one): it goes on as a move, paired with the delete (take_answer).
        std::string lacks = {};  // the first such column
    };

    SourceLayout& layout_of(const std::shared_ptr<const Relation>& rel);
    void add(size_t mutation, MutationKind kind, bool old_values, SourceLayout& layout,
             uint32_t tag);
    // Runs the batch through the engine and appends what replaces it to `out`.
    void run_batch(source::StagedRows& out);
    // Turns one answer into mutations; returns the rows done.
    size_t take_answer(JSValueRef answer, source::StagedRows& out, std::vector<bool>& produced);
    [[noreturn]] void fail(size_t at, const JsError* error);
    // Takes the answer layouts the engine made in its last call into out_names_.
    void read_layouts();
    // Drops the batch and throws `e`.
    [[noreturn]] void abandon(const Error& e);
    // The error for a batch whose text is not UTF-8: names the first value that is not.
    Error not_utf8() const;
    // The error for row `at` of the batch (SIZE_MAX: the one the batch's state names).
    Error failure(size_t at, const JsError* error);
    const std::vector<Datum>& values_of(const Pending& p) const;
    std::vector<Datum>& values_of(const Pending& p);
    void clear_batch();
    std::shared_ptr<const Relation> relation_for(const std::shared_ptr<const Relation>& source,
                                                 const std::string& table, int layout);
    std::shared_ptr<const Relation> make_relation(const Relation& source, const std::string& table,
                                                  int layout);
    // The target's spelling of a table or column name the script gave for rows of `source`.
    static std::string target_name(const Relation& source, const std::string& script_name);
    std::string describe_key(const Pending& p) const;
    // The old values of a key change that goes on as a move: `removed`'s (the script's
    // answer to its delete) by the names of `row`'s columns.
    static std::vector<Datum> old_key_for(Mutation& removed, const Mutation& row);
    // A key change whose new row lacks `column`'s value, which no old row supplied, and
    // whose answer cannot be a move.
    Error unsent_in_key_change(const Pending& p, const std::string& column) const;
    const char* handler_of(const Pending& p) const {
        return p.kind == MutationKind::kUpsert ? "onRowUpsert" : "onRowDelete";
    }

    Userscript& script_;
    std::string target_schema_;
    Userscript::SchemaHandlers handlers_;
    metrics::Probe* probe_;
    size_t batch_rows_;
    JSObjectRef batch_ = nullptr;  // makeBatchStage's object (protected)
    JSObjectRef run_ = nullptr, register_ = nullptr;
    JSObjectRef state_ = nullptr;  // the batch object's `state`, reachable from it
    std::unordered_map<const Relation*, SourceLayout> layouts_;
    std::vector<Mutation> mutations_;  // of the batch
    std::vector<Pending> pending_;
    std::string input_;              // the batch as JSON
    size_t slots_ = 0;               // values of the batch's rows
    std::vector<uint8_t> uses_;      // per value of the batch, how often the answer uses it (<= 2)
    std::vector<uint32_t> answers_;  // per row change of the batch, how many rows replace it
    std::vector<int32_t> tables_;    // and the table code of its last (-1: none)
    std::unordered_map<int, std::vector<std::string>> out_names_;  // answer layouts
    struct AnswerKeys {  // where the batch object keeps an answer's texts and layouts
        JsString s{"s"}, l{"l"}, at{"at"};
    } keys_;
    std::vector<int32_t> codes_;        // of the answer being read
    std::vector<std::string> strings_;  // of the answer being read
    // Relations of the rows the script returns, one per source layout, table and answer
    // layout, so the apply side resolves each layout once.
    std::map<std::tuple<const Relation*, std::string, int>, std::shared_ptr<const Relation>>
        relations_;
    const Relation* last_source_ = nullptr;  // relation_for's last answer
    std::string last_table_;
    int last_layout_ = 0;
    std::shared_ptr<const Relation> last_relation_;
    uint32_t next_id_ = 0x70000000;
};

}  // namespace rep::script
