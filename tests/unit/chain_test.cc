// Chained commits: a group's pipeline sent behind the previous group's COMMIT before that
// COMMIT is answered. What must hold: groups land in source order, a group never commits
// behind one that did not, and whatever fails, every group ends up applied exactly once.
// The fake target runs each pipeline when it is sent and keeps its outcome for the read, so
// the second group executes "while" the first one's answer is outstanding.

#include "sequencer/retrying_applier.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

namespace rep::sequencer {
namespace {

using testing::FakeStatement;

struct ChainTest : ::testing::Test {
    // Transaction `id` (one row, value `v`) as a group of its own; `next_at_hand` as the
    // worker says it when the next group is queued.
    void group(RetryingApplier& r, uint64_t id, bool next_at_hand, const std::string& v = "x") {
        for (ChangeItem& item :
             testing::transaction(id, {testing::upsert(rel, {std::to_string(id), v})})) {
            r.apply(std::move(item));
        }
        r.end_group(next_at_hand);
    }
    // The first write of the row with key `id` fails with a retryable error (as a
    // serialization failure would); `failures` counts the attempts at it.
    void fail_first_write_of(const std::string& id, int& failures) {
        f.db.fail = [id, &failures](const FakeStatement& s) -> std::optional<Error> {
            if (s.kind == FakeStatement::Kind::kUpsert && !s.rows.empty() && s.rows[0][0] == id &&
                failures++ == 0) {
                return Error(ErrorKind::kRetryable, "restart transaction", "40001");
            }
            return std::nullopt;
        };
    }
    std::vector<Ordinal> committed_spans(const testing::TestApplier& t) const {
        std::vector<Ordinal> out;
        for (const GroupSpan& s : t.hooks.spans) {
            out.push_back(s.txns.lo);
        }
        return out;
    }

    testing::ApplyFixture f;
    std::shared_ptr<const Relation> rel = f.table("items", {"id", "v"}, 1);
};

TEST_F(ChainTest, GroupsGoOutBehindTheLastCommitAndAreReportedInOrder) {
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    group(r, 100, true);
    EXPECT_EQ(r.unanswered(), 1u);
    EXPECT_TRUE(t.hooks.spans.empty()) << "reported before its answer was read";
    group(r, 200, true);  // chained: reads 100's answer after sending 200
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100)}));
    group(r, 300, false);  // nothing queued behind it: answered at once
    EXPECT_EQ(r.unanswered(), 0u);
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100), Ordinal(200), Ordinal(300)}));
    EXPECT_EQ(f.db.memo_writes(testing::kMemoKey),
              (std::vector<std::string>{"0/6C", "0/D0", "0/134"}));
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|x", "200|x", "300|x"}));
}

TEST_F(ChainTest, HooksThatCannotChainAnswerEveryCommitAtOnce) {
    testing::TestApplier t(f);
    t.hooks.chain = false;  // e.g. the memo is in a staging database of its own
    group(t.retrying, 100, true);
    EXPECT_EQ(t.retrying.unanswered(), 0u);
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100)}));
}

// The first group fails (a retryable error, as a serialization failure at COMMIT would be)
// after the second was sent behind it: the second's guard finds the first's checkpoint row
// missing, so it cannot commit; both are applied again, in order.
TEST_F(ChainTest, GroupBehindAFailedOneDoesNotCommitAndBothApplyAgainInOrder) {
    int failures = 0;
    fail_first_write_of("100", failures);
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    group(r, 100, true);
    group(r, 200, true);
    r.settle();
    EXPECT_EQ(failures, 2);  // failed once, then applied again
    EXPECT_EQ(f.db.memo_writes(testing::kMemoKey), (std::vector<std::string>{"0/6C", "0/D0"}))
        << "200 must never commit before 100";
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100), Ordinal(200)}));
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|x", "200|x"}));
    EXPECT_EQ(f.db.commits(), 2u);
}

// The connection breaks with the first COMMIT in flight (it landed) and the second not sent:
// the checkpoint row shows the first landed; only the second is applied again.
TEST_F(ChainTest, LostConnectionSettlesFromTheCheckpointWhatLanded) {
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    f.db.break_next_commit(/*landed=*/true);
    group(r, 100, true);
    group(r, 200, true);
    r.settle();
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100), Ordinal(200)}));
    EXPECT_EQ(f.db.memo_writes(testing::kMemoKey), (std::vector<std::string>{"0/6C", "0/D0"}));
    EXPECT_EQ(f.db.commits(), 2u) << "100 was applied once";
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|x", "200|x"}));
}

// Both COMMITs are in doubt (CockroachDB's 40003 on the first, the connection still up); the
// first did land, so the second, chained behind it, passed its guard and landed too.
TEST_F(ChainTest, AmbiguousFirstCommitWithBothLandedAppliesNothingAgain) {
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    f.db.break_next_commit(/*landed=*/true, testing::FakeDatabase::CommitFault::kAmbiguousResult);
    group(r, 100, true);
    group(r, 200, true);
    r.settle();
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100), Ordinal(200)}));
    EXPECT_EQ(f.db.commits(), 2u);
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|x", "200|x"}));
}

// A row the target rejects, found late in a chained group, is reported as it would be
// without chaining: the group is applied again unchained, and the error names the row; the
// group behind it is not applied.
TEST_F(ChainTest, FatalErrorFoundLateNamesTheRowAndStopsThere) {
    f.db.fail = [](const FakeStatement& s) -> std::optional<Error> {
        for (const auto& row : s.rows) {
            if (row.size() > 1 && row[1] == "BAD") {
                return Error(ErrorKind::kFatal, "violates check constraint", "23514");
            }
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    group(r, 100, true);
    group(r, 200, true, "BAD");
    try {
        group(r, 300, true);
        r.settle();
        FAIL() << "the bad row was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.sqlstate(), "23514");
        EXPECT_NE(std::string(e.what()).find("row with primary key id=200"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|x"}));
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/6C");
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100)}));
}

// The first row of a table not seen yet makes the worker read the target's catalog on its
// connection: the answers outstanding are read first, and both groups are reported in order.
TEST_F(ChainTest, TableLookupWaitsForTheAnswersOutstanding) {
    auto other = f.table("other", {"id", "v"}, 1);
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    group(r, 100, true);
    ASSERT_EQ(r.unanswered(), 1u);
    for (ChangeItem& item : testing::transaction(200, {testing::upsert(other, {"1", "y"})})) {
        r.apply(std::move(item));
    }
    EXPECT_EQ(r.unanswered(), 0u);
    r.end_group(false);
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100), Ordinal(200)}));
    EXPECT_EQ(f.dump("other"), (std::vector<std::string>{"1|y"}));
    EXPECT_EQ(f.db.memo_writes(testing::kMemoKey), (std::vector<std::string>{"0/6C", "0/D0"}));
}

// Settling is also what happens before a group writes rows of its own mid-way (a large
// transaction): the earlier group's failure is handled first, then the open group goes on.
TEST_F(ChainTest, FailureReadBeforeAMidGroupWriteLetsTheOpenGroupGoOn) {
    f.options.flush_size = 2;
    int failures = 0;
    fail_first_write_of("100", failures);
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    group(r, 100, true);
    std::vector<Mutation> rows;
    for (int i = 0; i < 5; ++i) {
        rows.push_back(testing::upsert(rel, {std::to_string(1000 + i), "big"}));
    }
    for (ChangeItem& item : testing::transaction(400, rows)) {
        r.apply(std::move(item));
    }
    r.end_group(false);
    EXPECT_EQ(committed_spans(t), (std::vector<Ordinal>{Ordinal(100), Ordinal(400)}));
    EXPECT_EQ(f.dump("items").size(), 6u);
    EXPECT_EQ(f.db.memo_writes(testing::kMemoKey), (std::vector<std::string>{"0/6C", "0/198"}));
}

}  // namespace
}  // namespace rep::sequencer
