// The seam between a source and the queue: the TransactionEmitter's framing and --flushSize
// chunking, and a row stage that drops, changes and re-routes rows.

#include "source/row_stage.h"
#include "source/transaction_emitter.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

namespace rep::source {
namespace {

using Kind = ChangeItem::Kind;

std::vector<ChangeItem> drain(util::BoundedQueue<ChangeItem>& q) {
    std::vector<ChangeItem> out;
    for (ChangeItem& item : q.take_all()) {
        out.push_back(std::move(item));
    }
    return out;
}

struct SeamTest : ::testing::Test {
    testing::ApplyFixture f;
    std::shared_ptr<const Relation> items = f.table("items", {"id", "v"}, 1);
    std::shared_ptr<const Relation> audit = f.table("audit", {"id", "v"}, 1);
    util::BoundedQueue<ChangeItem> queue{100000};
    std::atomic<bool> stop{false};
};

TEST_F(SeamTest, EmitterFramesTransactionsAndChunksRows) {
    TransactionEmitter emitter(queue, 3, stop);
    emitter.begin(7, Position{Ordinal(100), {}}, 42);
    for (int i = 0; i < 7; ++i) {
        emitter.change(testing::upsert(items, {std::to_string(i), "x"}));
    }
    Truncate t;
    t.relations.push_back(items);
    emitter.truncate(t);
    emitter.change(testing::upsert(items, {"8", "x"}));
    emitter.commit(Position{Ordinal(108), "0/6C"}, 42);
    emitter.keepalive(Position{Ordinal(200), "0/C8"});
    std::vector<ChangeItem> got = drain(queue);
    std::vector<Kind> kinds;
    std::vector<size_t> sizes;
    for (const ChangeItem& item : got) {
        kinds.push_back(item.kind);
        sizes.push_back(item.mutations.size());
    }
    // 7 rows in chunks of 3; the truncate after the rows before it; the last row alone.
    EXPECT_EQ(kinds, (std::vector<Kind>{Kind::kBegin, Kind::kChanges, Kind::kChanges,
                                        Kind::kChanges, Kind::kTruncate, Kind::kChanges,
                                        Kind::kCommit, Kind::kKeepalive}));
    EXPECT_EQ(sizes, (std::vector<size_t>{0, 3, 3, 1, 0, 1, 0, 0}));
    for (const ChangeItem& item : got) {  // what the queue and the apply window count
        EXPECT_EQ(item.bytes, item.approx_bytes());
    }
    EXPECT_EQ(got.front().position.ordinal, Ordinal(100));
    EXPECT_EQ(got.front().xid, 7u);
    EXPECT_EQ(got[6].position.text, "0/6C");
    EXPECT_EQ(got[6].commit_time_us, 42);
    EXPECT_EQ(got[7].position.text, "0/C8");
}

TEST_F(SeamTest, FullQueueCallsTheWaitingHookUntilStopped) {
    util::BoundedQueue<ChangeItem> small(1);
    TransactionEmitter emitter(small, 1000, stop);
    int waits = 0;
    emitter.while_waiting([&] {
        if (++waits == 3) {
            stop = true;  // the pipeline ends: the emitter gives up on the item
        }
    });
    emitter.begin(1, Position{Ordinal(1), {}}, 0);   // fills the queue
    emitter.commit(Position{Ordinal(2), "0/2"}, 0);  // waits, calling the hook
    EXPECT_EQ(waits, 3);
    EXPECT_EQ(small.weight(), 1u);
}

// Drops rows whose v is "secret", upper-cases v, and sends rows of `items` with an id over
// 100 to `audit` as well.
class ExampleStage final : public RowStage {
public:
    explicit ExampleStage(std::shared_ptr<const Relation> audit) : audit_(std::move(audit)) {}
    void process(Mutation m, uint32_t tag, StagedRows& out) override {
        if (m.values[1].text == "secret") {
            return;
        }
        for (char& c : m.values[1].text) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        if (std::stoi(m.values[0].text) > 100) {
            Mutation copy = m;
            copy.relation = audit_;
            out.add(std::move(copy), tag);
        }
        out.add(std::move(m), tag);
    }

private:
    std::shared_ptr<const Relation> audit_;
};

TEST_F(SeamTest, StageDropsChangesAndRoutesRowsWithinTheTransaction) {
    TransactionEmitter emitter(queue, 1000, stop);
    ExampleStage stage(audit);
    StagedSink sink(stage, emitter);
    sink.begin(1, Position{Ordinal(10), {}}, 0);
    sink.change(testing::upsert(items, {"1", "secret"}));
    sink.change(testing::upsert(items, {"2", "abc"}));
    sink.change(testing::upsert(items, {"200", "xyz"}));
    sink.commit(Position{Ordinal(18), "0/12"}, 0);
    std::vector<ChangeItem> got = drain(queue);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].kind, Kind::kBegin);
    EXPECT_EQ(got[2].kind, Kind::kCommit);
    EXPECT_EQ(got[2].position.text, "0/12");  // positions pass unchanged
    const auto& rows = got[1].mutations;
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].relation->name, "items");
    EXPECT_EQ(rows[0].values[1].text, "ABC");
    EXPECT_EQ(rows[1].relation->name, "audit");
    EXPECT_EQ(rows[1].values[1].text, "XYZ");
    EXPECT_EQ(rows[2].relation->name, "items");
}

TEST_F(SeamTest, PassThroughStageChangesNothing) {
    TransactionEmitter emitter(queue, 1000, stop);
    PassThroughStage stage;
    StagedSink sink(stage, emitter);
    sink.begin(1, Position{Ordinal(10), {}}, 0);
    sink.change(testing::upsert(items, {"1", "a"}));
    sink.commit(Position{Ordinal(18), "0/12"}, 0);
    std::vector<ChangeItem> got = drain(queue);
    ASSERT_EQ(got.size(), 3u);
    ASSERT_EQ(got[1].mutations.size(), 1u);
    EXPECT_EQ(got[1].mutations[0].values[1].text, "a");
}

// Holds every row change back until flush(), as the userscript stage holds a batch; with
// `misorder`, answers the last two the wrong way round.
class HoldingStage final : public RowStage {
public:
    explicit HoldingStage(bool misorder = false) : misorder_(misorder) {}
    void process(Mutation m, uint32_t tag, StagedRows& /*out*/) override {
        held_.add(std::move(m), tag);
    }
    void flush(StagedRows& out) override {
        if (misorder_ && held_.size() >= 2) {
            std::swap(held_.tags[held_.size() - 1], held_.tags[held_.size() - 2]);
        }
        for (size_t i = 0; i < held_.size(); ++i) {
            out.add(std::move(held_.rows[i]), held_.tags[i]);
        }
        held_.clear();
    }

private:
    bool misorder_;
    StagedRows held_;
};

ChangeItem frame(Kind kind) {
    ChangeItem item;
    item.kind = kind;
    return item;
}

TEST_F(SeamTest, OneBatchServesManyTransactionsAndEachGetsItsOwnRows) {
    // Three transactions as the stage thread takes them from the reader's queue.
    std::deque<ChangeItem> taken;
    taken.push_back(frame(Kind::kBegin));
    ChangeItem first = frame(Kind::kChanges);
    first.mutations = {testing::upsert(items, {"1", "a"}), testing::upsert(items, {"2", "secret"}),
                       testing::upsert(items, {"3", "b"})};
    taken.push_back(std::move(first));
    taken.push_back(frame(Kind::kCommit));
    taken.push_back(frame(Kind::kBegin));
    ChangeItem dropped = frame(Kind::kChanges);
    dropped.mutations = {testing::upsert(items, {"4", "secret"})};
    taken.push_back(std::move(dropped));
    taken.push_back(frame(Kind::kCommit));
    taken.push_back(frame(Kind::kBegin));
    ChangeItem routed = frame(Kind::kChanges);
    routed.mutations = {testing::upsert(items, {"500", "c"})};
    taken.push_back(std::move(routed));
    taken.push_back(frame(Kind::kCommit));

    ExampleStage stage(audit);  // drops "secret", routes ids over 100 to audit as well
    StagedRows scratch;
    run_items(stage, taken, scratch);
    ASSERT_EQ(taken.size(), 9u);  // framing untouched
    ASSERT_EQ(taken[1].mutations.size(), 2u);
    EXPECT_EQ(taken[1].mutations[0].values[1].text, "A");
    EXPECT_EQ(taken[1].mutations[1].values[1].text, "B");
    EXPECT_TRUE(taken[4].mutations.empty());  // all dropped: the pipeline skips the item
    EXPECT_EQ(taken[4].bytes, 0u);
    EXPECT_EQ(taken[7].bytes, taken[7].approx_bytes());  // the rows the stage made, counted
    ASSERT_EQ(taken[7].mutations.size(), 2u);
    EXPECT_EQ(taken[7].mutations[0].relation->name, "audit");
    EXPECT_EQ(taken[7].mutations[1].relation->name, "items");

    // The same with a stage that answers only at flush(): one batch across the three.
    std::deque<ChangeItem> again;
    for (int t = 0; t < 3; ++t) {
        again.push_back(frame(Kind::kBegin));
        ChangeItem c = frame(Kind::kChanges);
        c.mutations = {testing::upsert(items, {std::to_string(t), "x"}),
                       testing::upsert(items, {std::to_string(t + 10), "y"})};
        again.push_back(std::move(c));
        again.push_back(frame(Kind::kCommit));
    }
    HoldingStage holding;
    run_items(holding, again, scratch);
    for (int t = 0; t < 3; ++t) {
        const auto& rows = again[3 * t + 1].mutations;
        ASSERT_EQ(rows.size(), 2u);
        EXPECT_EQ(rows[0].values[0].text, std::to_string(t));
        EXPECT_EQ(rows[1].values[0].text, std::to_string(t + 10));
    }
}

// A stage that answers out of order cannot be put back safely: the error says so and no
// item keeps rows.
TEST_F(SeamTest, RowsAnsweredOutOfOrderAreRefused) {
    std::deque<ChangeItem> taken;
    for (int t = 0; t < 2; ++t) {
        ChangeItem c = frame(Kind::kChanges);
        c.mutations = {testing::upsert(items, {std::to_string(t), "x"})};
        taken.push_back(std::move(c));
    }
    HoldingStage misordering(true);
    StagedRows scratch;
    EXPECT_THROW(run_items(misordering, taken, scratch), Error);
    EXPECT_TRUE(taken[0].mutations.empty());
    EXPECT_TRUE(taken[1].mutations.empty());
}

}  // namespace
}  // namespace rep::source
