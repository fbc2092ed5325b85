// The batch fold: whatever sequence of inserts, updates, key changes, deletes and unchanged
// TOASTed columns a group holds, the target must end as the source did, and target-only
// columns keep their values. Checked on random histories against a model of the source table,
// with folding, in strict order, for order-sensitive tables and with tiny flushes, with the
// key or the whole old row as old tuple, through the real GroupApplier and a fake target.

#include "sequencer/group_applier.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

#include <map>
#include <random>

namespace rep::sequencer {
namespace {

using testing::ApplyFixture;

struct Variant {
    const char* name;
    bool collapse;
    bool order_sensitive;
    size_t flush_size;
};

// A random history of source transactions over keys 1..6 of items(id, a, t), starting from
// rows 1..4, and the table it leaves. `t` stands for a TOASTed column: an update that does not
// change it does not send it, a key change included. The target also has a column `extra`
// the source does not know: rows keep its value when they change, move with it when their key
// changes, and new rows get NULL.
struct Row {
    std::string a, t, extra;
};
struct History {
    std::vector<std::vector<Mutation>> txns;
    std::map<std::string, Row> table;
};

History random_history(std::mt19937& rng, const std::shared_ptr<const Relation>& rel,
                       bool full_identity) {
    History h;
    for (int k = 1; k <= 4; ++k) {
        std::string id = std::to_string(k);
        h.table[id] = {"a0", "t" + id, "keep" + id};
    }
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    auto value = [&](const char* prefix) { return prefix + std::to_string(pick(1000)); };
    // The old tuple of a key change: the key alone, or the whole old row (REPLICA IDENTITY
    // FULL; a TOASTed value it did not change is still left out).
    auto old_tuple = [&](const std::string& id, const Row& r) {
        return full_identity ? std::vector<std::string>{id, r.a, "~"}
                             : std::vector<std::string>{id, "~", "~"};
    };
    int txns = 1 + pick(4);
    for (int n = 0; n < txns; ++n) {
        std::vector<Mutation> ops;
        int count = 1 + pick(8);
        for (int i = 0; i < count; ++i) {
            std::string id = std::to_string(1 + pick(6));
            auto row = h.table.find(id);
            if (row == h.table.end()) {
                std::string a = value("a"), tv = value("t");
                ops.push_back(testing::upsert(rel, {id, a, tv}));
                h.table[id] = {a, tv, "NULL"};
                continue;
            }
            std::string to = std::to_string(1 + pick(6));
            bool free = !h.table.contains(to);
            switch (pick(5)) {
                case 0: {  // update, TOASTed column unchanged (not sent)
                    std::string a = value("a");
                    ops.push_back(testing::upsert(rel, {id, a, "~"}));
                    row->second.a = a;
                    break;
                }
                case 1: {  // update of both columns
                    std::string a = value("a"), tv = value("t");
                    ops.push_back(testing::upsert(rel, {id, a, tv}));
                    row->second.a = a;
                    row->second.t = tv;
                    break;
                }
                case 2: {  // key change with the whole new row
                    if (!free) {
                        break;
                    }
                    std::string a = value("a"), tv = value("t");
                    ops.push_back(testing::upsert(rel, {to, a, tv}, old_tuple(id, row->second)));
                    Row moved{a, tv, row->second.extra};
                    h.table.erase(row);
                    h.table[to] = moved;
                    break;
                }
                case 3: {  // key change, TOASTed column unchanged (not sent)
                    if (!free) {
                        break;
                    }
                    std::string a = value("a");
                    ops.push_back(testing::upsert(rel, {to, a, "~"}, old_tuple(id, row->second)));
                    Row moved{a, row->second.t, row->second.extra};
                    h.table.erase(row);
                    h.table[to] = moved;
                    break;
                }
                default:  // delete by key
                    ops.push_back(testing::remove(rel, {id, "~", "~"}));
                    h.table.erase(row);
                    break;
            }
        }
        h.txns.push_back(std::move(ops));
    }
    return h;
}

TEST(BatchFold, RandomHistoriesEndAsTheSourceDid) {
    const Variant variants[] = {{"folded", true, false, 1000},
                                {"strict order", false, false, 1000},
                                {"order-sensitive table", true, true, 1000},
                                {"flush every 2 rows", true, false, 2}};
    for (const Variant& v : variants) {
        for (bool full_identity : {false, true}) {
            for (unsigned seed = 0; seed < 300; ++seed) {
                ApplyFixture f;
                f.options.collapse = v.collapse;
                f.options.flush_size = v.flush_size;
                auto rel = f.table("items", {"id", "a", "t"}, 1, v.order_sensitive, {"extra"});
                std::mt19937 rng(seed);
                History h = random_history(rng, rel, full_identity);
                // The target starts as the source did before the history.
                for (int k = 1; k <= 4; ++k) {
                    std::string id = std::to_string(k);
                    f.db.put("\"public\".\"items\"",
                             {{"id", id}, {"a", "a0"}, {"t", "t" + id}, {"extra", "keep" + id}});
                }
                testing::TestApplier t(f);
                GroupApplier& applier = t.applier;
                uint64_t id = 100;
                for (auto& ops : h.txns) {
                    for (const ChangeItem& item : testing::transaction(id, ops)) {
                        applier.apply(item);
                    }
                    id += 100;
                }
                applier.commit();
                std::vector<std::string> expected;
                for (const auto& [key, row] : h.table) {
                    expected.push_back(key + "|" + row.a + "|" + row.t + "|" + row.extra);
                }
                ASSERT_EQ(f.dump("items"), expected)
                    << v.name << (full_identity ? ", REPLICA IDENTITY FULL" : "") << ", seed "
                    << seed;
            }
        }
    }
}

// Rows of one table may arrive through two layouts in one group: a userscript's deletes
// carry the key only, its upserts every column. They fold as one table, so a delete that
// follows an upsert is written after it, even when the delete's layout was seen first.
TEST(BatchFold, RowsOfOneTableInTwoLayoutsFoldTogether) {
    ApplyFixture f;
    auto full = f.table("items", {"id", "a"}, 1);
    auto keys_only = std::make_shared<Relation>(*full);
    keys_only->columns.resize(1);
    f.db.put("\"public\".\"items\"", {{"id", "1"}, {"a", "old"}});
    testing::TestApplier t(f);
    GroupApplier& applier = t.applier;
    std::vector<Mutation> ops = {
        testing::remove(keys_only, {"1"}), testing::upsert(full, {"2", "new"}),
        testing::remove(keys_only, {"2"}), testing::upsert(full, {"3", "kept"})};
    for (const ChangeItem& item : testing::transaction(100, ops)) {
        applier.apply(item);
    }
    applier.commit();
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"3|kept"}));
}

TEST(GroupApplier, SmallTransactionsGoInOneRoundTripWithTheirCheckpoint) {
    ApplyFixture f;
    auto rel = f.table("items", {"id", "a"}, 1);
    testing::TestApplier t(f);
    GroupApplier& applier = t.applier;
    for (uint64_t n = 1; n <= 5; ++n) {
        for (const ChangeItem& item :
             testing::transaction(n * 100, {testing::upsert(rel, {std::to_string(n), "x"})})) {
            applier.apply(item);
        }
    }
    applier.commit();
    EXPECT_EQ(t.session.pipelines(), 1u);  // BEGIN, the rows, the memo row and COMMIT
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(f.dump("items").size(), 5u);
    // The checkpoint is the end of the last transaction, committed with the rows.
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/1FC");
    ASSERT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(t.hooks.spans[0].txns, (OrdinalRange{Ordinal(100), Ordinal(500)}));
}

TEST(GroupApplier, LargeTransactionIsWrittenInPiecesInsideOneTargetTransaction) {
    ApplyFixture f;
    f.options.flush_size = 100;
    auto rel = f.table("items", {"id", "a"}, 1);
    testing::TestApplier t(f);
    GroupApplier& applier = t.applier;
    std::vector<Mutation> rows;
    for (int i = 0; i < 1000; ++i) {
        rows.push_back(testing::upsert(rel, {std::to_string(i), "x"}));
    }
    for (const ChangeItem& item : testing::transaction(100, rows, 100)) {
        applier.apply(item);
        // Nothing is visible before the source transaction's commit.
        EXPECT_EQ(f.db.commits(), 0u);
    }
    EXPECT_GE(t.session.pipelines(), 9u);  // written as it came, 100 rows at a time
    applier.commit();
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(f.dump("items").size(), 1000u);
}

// CockroachDB refuses a message over 16 MiB, and one statement carries a whole segment's
// columns: wide rows are written in pieces, none over --targetMaxMessageBytes unless one row
// alone is wider.
TEST(GroupApplier, WideRowsAreWrittenInPiecesThatFitOneMessage) {
    ApplyFixture f;
    f.options.max_message_bytes = 4096;
    auto rel = f.table("items", {"id", "a"}, 1);
    size_t statements = 0;
    size_t widest_of_several = 0;
    f.db.fail = [&](const testing::FakeStatement& s) -> std::optional<Error> {
        if (s.kind == testing::FakeStatement::Kind::kUpsert) {
            ++statements;
            size_t bytes = 0;
            for (const auto& row : s.rows) {
                for (const auto& v : row) {
                    bytes += v ? v->size() : 0;
                }
            }
            if (s.rows.size() > 1) {
                widest_of_several = std::max(widest_of_several, bytes);
            }
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    std::vector<Mutation> rows;
    for (int i = 0; i < 100; ++i) {
        rows.push_back(testing::upsert(rel, {std::to_string(i), std::string(1000, 'w')}));
    }
    rows.push_back(testing::upsert(rel, {"1000", std::string(10000, 'x')}));  // alone too wide
    for (const ChangeItem& item : testing::transaction(100, rows)) {
        t.applier.apply(item);
    }
    t.applier.commit();
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(f.dump("items").size(), 101u);
    EXPECT_GE(statements, 101u * 1000 / 4096);
    EXPECT_LE(widest_of_several, 4096u);
    EXPECT_GT(widest_of_several, 0u);
}

// A table with a foreign key to itself (order-sensitive) may need the rows of one statement
// together to pass the check at its end: its segments are never split.
TEST(GroupApplier, SegmentsOfOrderSensitiveTablesAreNotSplit) {
    ApplyFixture f;
    f.options.max_message_bytes = 4096;
    auto rel = f.table("tree", {"id", "parent", "a"}, 1, /*order_sensitive=*/true);
    size_t statements = 0;
    f.db.fail = [&](const testing::FakeStatement& s) -> std::optional<Error> {
        statements += s.kind == testing::FakeStatement::Kind::kUpsert ? 1 : 0;
        return std::nullopt;
    };
    testing::TestApplier t(f);
    std::vector<Mutation> rows;
    for (int i = 0; i < 20; ++i) {
        rows.push_back(testing::upsert(
            rel, {std::to_string(i), std::to_string(i / 2), std::string(1000, 'w')}));
    }
    for (const ChangeItem& item : testing::transaction(100, rows)) {
        t.applier.apply(item);
    }
    t.applier.commit();
    EXPECT_EQ(f.dump("tree").size(), 20u);
    EXPECT_EQ(statements, 1u);
}

// A unique index checks each row as it is written, even within one statement: rows that swap
// a value through NULL (a = NULL, b = a's, a = b's) are written in that order, where a table
// whose only constraint is checked at the statement's end (a foreign key) may have the second
// write of a take the first one's place. A write right after the same key's (no row between)
// takes its place either way.
TEST(GroupApplier, RowsSwappingAUniqueValueAreWrittenInSourceOrder) {
    for (bool unique : {true, false}) {
        ApplyFixture f;
        auto rel = f.table("users", {"id", "email"}, 1, /*order_sensitive=*/true, {}, unique);
        f.db.put("\"public\".\"users\"", {{"id", "1"}, {"email", "x"}});
        f.db.put("\"public\".\"users\"", {{"id", "2"}, {"email", "y"}});
        std::vector<std::string> written;
        f.db.fail = [&](const testing::FakeStatement& s) -> std::optional<Error> {
            if (s.kind == testing::FakeStatement::Kind::kUpsert) {
                for (const auto& row : s.rows) {
                    written.push_back(row.at(0).value_or("?") + "=" + row.at(1).value_or("NULL"));
                }
                written.push_back(";");
            }
            return std::nullopt;
        };
        testing::TestApplier t(f);
        std::vector<Mutation> swap = {
            testing::upsert(rel, {"1", "NULL"}), testing::upsert(rel, {"2", "x"}),
            testing::upsert(rel, {"1", "y"}), testing::upsert(rel, {"1", "z"})};
        for (const ChangeItem& item : testing::transaction(100, swap)) {
            t.applier.apply(item);
        }
        t.applier.commit();
        EXPECT_EQ(f.dump("users"), (std::vector<std::string>{"1|z", "2|x"}));
        using Writes = std::vector<std::string>;
        Writes expected =
            unique ? Writes{"1=NULL", "2=x", ";", "1=z", ";"} : Writes{"1=z", "2=x", ";"};
        EXPECT_EQ(written, expected);
    }
}

// A key change without the whole new row moves the target's row with one UPDATE ... FROM
// unnest(...), which PostgreSQL runs in the order of its join, not the rows': in a table
// with a unique index, a move that takes a value another move frees could be written first
// and fail (23505). There, each move is a statement of its own, in source order.
TEST(GroupApplier, MovesOfAUniqueConstrainedTableAreWrittenOneByOne) {
    for (bool unique : {true, false}) {
        ApplyFixture f;
        auto rel =
            f.table("users", {"id", "email", "bio"}, 1, /*order_sensitive=*/true, {}, unique);
        f.db.put("\"public\".\"users\"", {{"id", "1"}, {"email", "x"}, {"bio", "b1"}});
        f.db.put("\"public\".\"users\"", {{"id", "2"}, {"email", "y"}, {"bio", "b2"}});
        std::vector<size_t> moves;  // rows per move statement
        f.db.fail = [&](const testing::FakeStatement& s) -> std::optional<Error> {
            if (s.kind == testing::FakeStatement::Kind::kMove) {
                moves.push_back(s.rows.size());
            }
            return std::nullopt;
        };
        testing::TestApplier t(f);
        // bio unchanged (not sent), old key only: moves. 1 frees x, which 2 then takes.
        std::vector<Mutation> changes = {testing::upsert(rel, {"10", "z", "~"}, {"1", "~", "~"}),
                                         testing::upsert(rel, {"20", "x", "~"}, {"2", "~", "~"})};
        for (const ChangeItem& item : testing::transaction(100, changes)) {
            t.applier.apply(item);
        }
        t.applier.commit();
        EXPECT_EQ(f.dump("users"), (std::vector<std::string>{"10|z|b1", "20|x|b2"}));
        using Sizes = std::vector<size_t>;
        EXPECT_EQ(moves, (unique ? Sizes{1, 1} : Sizes{2}));
    }
}

TEST(GroupApplier, GroupThatWroteNothingStillMovesTheCheckpoint) {
    ApplyFixture f;
    auto rel = f.table("items", {"id", "a"}, 1);
    testing::TestApplier t(f);
    GroupApplier& applier = t.applier;
    for (const ChangeItem& item : testing::transaction(100, {})) {
        applier.apply(item);
    }
    applier.commit();
    EXPECT_EQ(t.session.pipelines(), 0u);
    ASSERT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.progress.get().text, "0/6C");
}

}  // namespace
}  // namespace rep::sequencer
