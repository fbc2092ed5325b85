#pragma once

#include "core/change_item.h"
#include "core/mutation.h"
#include "source/change_sink.h"

#include <deque>
#include <vector>

namespace rep::source {

// Rows a stage hands on, each with the tag of the row change it stands for.
struct StagedRows {
    std::vector<Mutation> rows;
    std::vector<uint32_t> tags;

    void add(Mutation m, uint32_t tag) {
        rows.push_back(std::move(m));
        tags.push_back(tag);
    }
    void clear() {
        rows.clear();
        tags.clear();
    }
    size_t size() const { return rows.size(); }
    bool empty() const { return rows.empty(); }
};

// A step between a source and the queue that sees every row change and decides what goes
// on in its place: nothing (the row is dropped), the row changed (other values, columns
// left out), or rows of other relations (re-routed to another target table). It sees only
// core types, never a source's or the target's, so one stage serves every command. The
// userscript stage (`--userscript`) is one; PassThroughStage is the trivial one.
//
// Transaction framing, truncates and positions pass through unchanged: a stage cannot make
// a source transaction partly visible or move a checkpoint. The caller keeps them: it tags
// each row change (the stage thread, app/pipeline.cc, with the queue item it came in, so one
// batch of the stage can serve many transactions) and puts each row the stage hands on back
// where its tag says.
class RowStage {
public:
    virtual ~RowStage() = default;
    // Appends what replaces `mutation` to `out`, each row tagged `tag`. A stage may hold row
    // changes back and answer for them later; what it appends is always in the order of the
    // row changes it stands for.
    virtual void process(Mutation mutation, uint32_t tag, StagedRows& out) = 0;
    // Appends what replaces every row change held back.
    virtual void flush(StagedRows& /*out*/) {}
};

// Passes every row change on as it is.
class PassThroughStage final : public RowStage {
public:
    void process(Mutation mutation, uint32_t tag, StagedRows& out) override {
        out.add(std::move(mutation), tag);
    }
};

// Runs the row changes of every item of `items` (as the stage thread takes them from the
// reader's queue, transactions and their framing in order) through `stage` in one go, so
// its batches can span many transactions, and puts the rows that replace them back into
// the items they came in. A kChanges item whose rows were all dropped is left empty. Throws
// what the stage throws; then no item holds rows of the stage's making. `scratch` is reused
// from call to call.
void run_items(RowStage& stage, std::deque<ChangeItem>& items, StagedRows& scratch);

// A ChangeSink that runs each row change through a stage and hands the result to `next`.
class StagedSink final : public ChangeSink {
public:
    // Both must outlive this sink.
    StagedSink(RowStage& stage, ChangeSink& next) : stage_(stage), next_(next) {}

    void begin(uint32_t xid, Position id, int64_t commit_time_us) override {
        drain();
        next_.begin(xid, std::move(id), commit_time_us);
    }
    void change(Mutation mutation) override {
        out_.clear();
        stage_.process(std::move(mutation), 0, out_);
        pass();
    }
    void truncate(Truncate truncate) override {
        drain();
        next_.truncate(std::move(truncate));
    }
    void commit(Position end, int64_t commit_time_us) override {
        drain();
        next_.commit(std::move(end), commit_time_us);
    }
    void keepalive(Position position) override {
        drain();
        next_.keepalive(std::move(position));
    }
    void while_waiting(std::function<void()> hook) override {
        next_.while_waiting(std::move(hook));
    }

private:
    void pass() {
        for (Mutation& m : out_.rows) {
            next_.change(std::move(m));
        }
    }
    void drain() {
        out_.clear();
        stage_.flush(out_);
        pass();
    }

    RowStage& stage_;
    ChangeSink& next_;
    StagedRows out_;  // reused from row to row
};

}  // namespace rep::source
