// Grouping source transactions into target transactions: the --flushSize, --timestampLimit
// and --flushPeriod limits, barriers, streaming of large transactions, skipped and empty
// transactions, keepalives.

#include "sequencer/grouper.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

namespace rep::sequencer {
namespace {

using Clock = std::chrono::steady_clock;
using Step = Grouper::Step;

struct GrouperTest : ::testing::Test {
    Grouper make(size_t flush_size, size_t timestamp_limit, Duration period,
                 const staging::AppliedSet* applied = nullptr) {
        return Grouper({flush_size, timestamp_limit, period}, codec, applied,
                       [this](const ChangeItem& c, std::vector<uint64_t>& keys) {
                           for (const Mutation& m : c.mutations) {
                               if (m.values.at(0).text == "unknown") {
                                   return false;
                               }
                               keys.push_back(std::hash<std::string>{}(m.values.at(0).text));
                           }
                           return true;
                       });
    }
    // Feeds one transaction of `rows` row changes (ids id*1000...) and returns the steps.
    std::vector<Step> feed(Grouper& g, uint64_t id, size_t rows, Clock::time_point at,
                           size_t chunk = 1000, const char* key = nullptr) {
        std::vector<Mutation> ms;
        for (size_t i = 0; i < rows; ++i) {
            ms.push_back(
                testing::upsert(rel, {key != nullptr ? key : std::to_string(id * 1000 + i), "x"}));
        }
        std::vector<Step> steps;
        for (ChangeItem& item : testing::transaction(id, ms, chunk)) {
            g.add(std::move(item), at, steps);
        }
        return steps;
    }

    testing::ApplyFixture f;
    std::shared_ptr<const Relation> rel = f.table("items", {"id", "a"}, 1);
    pg::LsnCodec codec;
    Clock::time_point t0 = Clock::now();
};

// Every group's bytes are counted, transaction by transaction: they bound the apply window
// (Schedule) however wide the rows, and the dispatcher stops a growing group before a worker
// could no longer keep it for an in-place retry.
TEST_F(GrouperTest, BytesOfEveryGroupAreCounted) {
    Grouper g = make(10, 1000, std::chrono::hours(1));
    feed(g, 100, 10, t0);
    EXPECT_EQ(g.forming_rows(), 10u);
    size_t per_row = g.forming_bytes() / 10;
    EXPECT_GT(per_row, 4u) << "the values \"x\" and the key, with their headers";
    EXPECT_EQ(g.forming_bytes() % 10, 0u) << "every row of the group counted once";
    feed(g, 200, 2, t0);
    EXPECT_EQ(g.forming_bytes(), 12 * per_row) << "then each transaction's rows";
    auto group = g.take();
    ASSERT_TRUE(group);
    EXPECT_EQ(group->bytes, 12 * per_row);  // what the dispatcher hands the Schedule
}

TEST_F(GrouperTest, SmallTransactionsJoinOneGroupUntilFlushSizeRows) {
    Grouper g = make(10, 1000, std::chrono::hours(1));
    for (uint64_t t = 1; t <= 3; ++t) {
        EXPECT_TRUE(feed(g, t * 100, 3, t0).empty());
        EXPECT_FALSE(g.due(t0)) << "9 rows so far";
    }
    EXPECT_TRUE(feed(g, 400, 3, t0).empty());
    ASSERT_TRUE(g.due(t0));  // 12 rows
    auto group = g.take();
    ASSERT_TRUE(group);
    EXPECT_EQ(group->txns, 4u);
    EXPECT_EQ(group->rows, 12u);
    EXPECT_EQ(group->txn_ids, (OrdinalRange{Ordinal(100), Ordinal(400)}));
    EXPECT_EQ(group->end.text, "0/198");  // the end of the last commit
    EXPECT_EQ(group->keys.size(), 12u);
    EXPECT_FALSE(g.forming());
}

TEST_F(GrouperTest, TimestampLimitAndFlushPeriodCloseAGroup) {
    Grouper g = make(1000, 3, std::chrono::hours(1));
    feed(g, 100, 1, t0);
    feed(g, 200, 1, t0);
    EXPECT_FALSE(g.due(t0));
    feed(g, 300, 1, t0);
    EXPECT_TRUE(g.due(t0));  // three transactions

    Grouper h = make(1000, 1000, std::chrono::seconds(1));
    feed(h, 100, 1, t0);
    EXPECT_FALSE(h.due(t0 + std::chrono::milliseconds(999)));
    EXPECT_TRUE(h.due(t0 + std::chrono::seconds(1)));
}

TEST_F(GrouperTest, NoGroupWhileATransactionIsOpen) {
    Grouper g = make(1, 1000, std::chrono::hours(1));
    feed(g, 100, 1, t0);
    std::vector<Step> steps;
    ChangeItem begin = testing::transaction(200, {})[0];
    g.add(std::move(begin), t0, steps);
    EXPECT_TRUE(g.in_transaction());
    EXPECT_FALSE(g.take()) << "the group may only go with the open transaction";
}

TEST_F(GrouperTest, TransactionOverFlushSizeIsStreamedAlone) {
    Grouper g = make(10, 1000, std::chrono::hours(1));
    feed(g, 100, 2, t0);  // a small one is forming
    std::vector<Step> steps = feed(g, 200, 35, t0, 5);
    // The forming group goes first, then the large transaction streams as a barrier.
    ASSERT_GE(steps.size(), 3u);
    EXPECT_EQ(steps[0].kind, Step::Kind::kDispatch);
    EXPECT_EQ(steps[0].group.txns, 1u);
    EXPECT_EQ(steps[1].kind, Step::Kind::kStreamStart);
    EXPECT_TRUE(steps[1].group.barrier);
    size_t streamed = 0;
    for (size_t i = 2; i + 1 < steps.size(); ++i) {
        EXPECT_EQ(steps[i].kind, Step::Kind::kStreamItem);
        streamed += steps[i].item.mutations.size();
    }
    EXPECT_EQ(steps.back().kind, Step::Kind::kStreamEnd);
    EXPECT_EQ(steps.back().position.text, "0/D0");
    // The first chunks over the limit started the stream; the rest followed as items.
    EXPECT_EQ(streamed + steps[1].group.rows, 35u);
    EXPECT_FALSE(g.forming());
}

TEST_F(GrouperTest, TruncateAndUnknownKeysRunAlone) {
    Grouper g = make(1000, 1000, std::chrono::hours(1));
    feed(g, 100, 1, t0);
    std::vector<Step> steps = feed(g, 200, 1, t0, 1000, "unknown");
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].kind, Step::Kind::kDispatch);  // the group before it
    EXPECT_FALSE(steps[0].group.barrier);
    EXPECT_EQ(steps[1].kind, Step::Kind::kDispatch);
    EXPECT_TRUE(steps[1].group.barrier);

    std::vector<ChangeItem> items = testing::transaction(300, {});
    ChangeItem truncate;
    truncate.kind = ChangeItem::Kind::kTruncate;
    truncate.truncate.relations.push_back(rel);
    items.insert(items.begin() + 1, truncate);
    steps.clear();
    for (ChangeItem& item : items) {
        g.add(std::move(item), t0, steps);
    }
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_TRUE(steps[0].group.barrier);
}

TEST_F(GrouperTest, EmptyAndAppliedTransactionsOnlyMoveThePosition) {
    staging::AppliedSet applied =
        staging::AppliedSet::recover(Ordinal(50), {{Ordinal(50), {{Ordinal(200), Ordinal(200)}}}});
    Grouper g = make(1000, 1000, std::chrono::hours(1), &applied);
    // Empty, with nothing forming: passed at once.
    std::vector<Step> steps = feed(g, 100, 0, t0);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].kind, Step::Kind::kPass);
    EXPECT_EQ(steps[0].position.text, "0/6C");
    // Already applied (listed in the checkpoint records): skipped, position passed.
    steps = feed(g, 200, 3, t0);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].kind, Step::Kind::kPass);
    // Behind a forming group, an empty transaction extends the group's end instead.
    feed(g, 300, 1, t0);
    EXPECT_TRUE(feed(g, 400, 0, t0).empty());
    auto group = g.take();
    ASSERT_TRUE(group);
    EXPECT_EQ(group->txns, 1u);
    EXPECT_EQ(group->end.text, "0/198");
}

TEST_F(GrouperTest, KeepaliveSendsTheGroupThenPasses) {
    Grouper g = make(1000, 1000, std::chrono::hours(1));
    feed(g, 100, 1, t0);
    ChangeItem ka;
    ka.kind = ChangeItem::Kind::kKeepalive;
    ka.position = pg::Lsn(0x500).position();
    std::vector<Step> steps;
    g.add(std::move(ka), t0, steps);
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].kind, Step::Kind::kDispatch);
    EXPECT_EQ(steps[1].kind, Step::Kind::kPass);
    EXPECT_EQ(steps[1].position.text, "0/500");
}

}  // namespace
}  // namespace rep::sequencer
