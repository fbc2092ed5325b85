// Table-level handlers on the apply side (sequencer/table_hooks.h), through the real
// GroupApplier and a fake target: row handlers see each row by the target's columns and key
// before it is folded, a key change reaches them as a delete and an upsert, and onWrite
// replaces a table's write with what it writes through the transaction, after the rows of
// other tables that came before.

#include "sequencer/group_applier.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

#include <cctype>
#include <set>

namespace rep::sequencer {
namespace {

using target::Segment;
using testing::ApplyFixture;

// Row handlers for `items`: onRowUpsert upper-cases `a` and drops rows whose `a` is "drop";
// onRowDelete protects key 1. onWrite for `audit`: writes only the even keys.
class FakeHooks final : public TableHooks {
public:
    explicit FakeHooks(std::vector<std::string>& log) : log_(log) {}

    bool has_row_handlers(const target::TargetTable& t) override { return t.name.table == "items"; }
    bool has_on_write(const target::TargetTable& t) override { return t.name.table == "audit"; }
    bool upsert(const target::TableMapping& m, std::vector<Datum>& row) override {
        Datum& a = row[*m.target().find("a")];
        log_.push_back("upsert " + m.describe_key(row));
        if (a.text == "drop") {
            return false;
        }
        for (char& c : a.text) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        return true;
    }
    bool remove(const target::TableMapping& m, std::vector<Datum>& row) override {
        log_.push_back("delete " + m.describe_key(row));
        return row[m.target().pk[0]].text != "1";
    }
    void on_write(std::vector<Segment>& segments, Transaction& tx) override {
        std::vector<Transaction::RowWrite> rows;
        for (const Segment& s : segments) {
            for (const std::vector<Datum>& row : s.rows) {
                if (std::stoi(row[s.mapping->target().pk[0]].text) % 2 == 0) {
                    rows.push_back({s.kind == target::SegmentKind::kDelete ? MutationKind::kDelete
                                                                           : MutationKind::kUpsert,
                                    row,
                                    {}});
                }
            }
        }
        log_.push_back("onWrite " + std::to_string(rows.size()) + " of " +
                       std::to_string(segments.size()) + " segments");
        tx.write(segments.front().mapping, std::move(rows));
    }

private:
    std::vector<std::string>& log_;
};

void apply(GroupApplier& applier, uint64_t id, std::vector<Mutation> ops) {
    for (const ChangeItem& item : testing::transaction(id, std::move(ops))) {
        applier.apply(item);
    }
}

TEST(TableHooks, RowHandlersTransformDropAndProtectRows) {
    ApplyFixture f;
    std::vector<std::string> log;
    f.table_hooks = [&] { return std::make_unique<FakeHooks>(log); };
    auto items = f.table("items", {"id", "a"}, 1);
    f.db.put("\"public\".\"items\"", {{"id", "1"}, {"a", "one"}});
    f.db.put("\"public\".\"items\"", {{"id", "2"}, {"a", "two"}});
    testing::TestApplier t(f);
    apply(t.applier, 100,
          {testing::upsert(items, {"3", "new"}), testing::upsert(items, {"4", "drop"}),
           testing::remove(items, {"2"}), testing::remove(items, {"1"}),
           // A key change from protected key 1: its delete is skipped, the new row written.
           testing::upsert(items, {"6", "moved"}, {"1", "~"})});
    t.applier.commit();
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"1|one", "3|NEW", "6|MOVED"}));
    EXPECT_EQ(log, (std::vector<std::string>{"upsert id=3", "upsert id=4", "delete id=2",
                                             "delete id=1", "delete id=1", "upsert id=6"}));
}

// A key change whose old row onRowDelete keeps: the new row is inserted beside it, so it must
// be whole. Values the source did not send come from a whole old tuple; without one the
// change stops with an error instead of writing NULLs.
TEST(TableHooks, AKeptOldRowNeedsAWholeNewRow) {
    ApplyFixture f;
    std::vector<std::string> log;
    f.table_hooks = [&] { return std::make_unique<FakeHooks>(log); };
    auto items = f.table("items", {"id", "a", "t"}, 1);
    f.db.put("\"public\".\"items\"", {{"id", "1"}, {"a", "one"}, {"t", "tee"}});
    testing::TestApplier t(f);
    apply(t.applier, 100, {testing::upsert(items, {"6", "moved", "~"}, {"1", "one", "tee"})});
    t.applier.commit();
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"1|one|tee", "6|MOVED|tee"}));

    try {
        apply(t.applier, 200, {testing::upsert(items, {"7", "again", "~"}, {"1", "~", "~"})});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("lacks column \"t\""), std::string::npos) << e.what();
    }
}

TEST(TableHooks, OnWriteWritesWhatItChoosesAfterTheRowsBeforeIt) {
    ApplyFixture f;
    std::vector<std::string> log;
    f.table_hooks = [&] { return std::make_unique<FakeHooks>(log); };
    auto audit = f.table("audit", {"id", "a"}, 1);
    auto other = f.table("other", {"id", "a"}, 1);
    testing::TestApplier t(f);
    apply(t.applier, 100,
          {testing::upsert(other, {"1", "x"}), testing::upsert(audit, {"1", "a"}),
           testing::upsert(audit, {"2", "b"}), testing::upsert(audit, {"4", "d"}),
           testing::upsert(other, {"2", "y"})});
    t.applier.commit();
    EXPECT_EQ(f.dump("audit"), (std::vector<std::string>{"2|b", "4|d"}));
    EXPECT_EQ(f.dump("other"), (std::vector<std::string>{"1|x", "2|y"}));
    EXPECT_EQ(f.db.commits(), 1u);  // everything in one target transaction, with the checkpoint
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/6C");

    apply(t.applier, 200, {testing::remove(audit, {"2"}), testing::remove(audit, {"4"})});
    t.applier.commit();
    EXPECT_EQ(f.dump("audit"), (std::vector<std::string>{}));
    EXPECT_EQ(log,
              (std::vector<std::string>{"onWrite 2 of 1 segments", "onWrite 2 of 1 segments"}));
}

}  // namespace
}  // namespace rep::sequencer
