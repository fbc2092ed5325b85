// Failures while applying a group: retries from memory, salvage of the transactions before a
// failing one, strict-order replay after a folding error, and a COMMIT whose acknowledgement
// was lost. The target is the fake; what is checked is what an operator would see: the rows
// on the target, the checkpoint, how often a group was committed, and the error text.

#include "sequencer/retrying_applier.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

namespace rep::sequencer {
namespace {

using testing::FakeStatement;

struct RetryTest : ::testing::Test {
    // Applies transactions 100, 200, 300 (rows "t1".."t3", or `bad_row` instead of "t2") as
    // one group.
    void apply_group(RetryingApplier& r, const std::string& second = "t2") {
        uint64_t id = 100;
        for (const std::string& v : {std::string("t1"), second, std::string("t3")}) {
            for (ChangeItem& item :
                 testing::transaction(id, {testing::upsert(rel, {std::to_string(id), v})})) {
                r.apply(std::move(item));
            }
            id += 100;
        }
        r.end_group();
    }
    // Fails every statement that writes the value "BAD", as a CHECK constraint would.
    void reject_bad() {
        f.db.fail = [](const FakeStatement& s) -> std::optional<Error> {
            for (const auto& row : s.rows) {
                for (const auto& v : row) {
                    if (v == "BAD") {
                        return Error(ErrorKind::kFatal,
                                     "new row for relation \"items\" violates check constraint",
                                     "23514");
                    }
                }
            }
            return std::nullopt;
        };
    }

    testing::ApplyFixture f;
    std::shared_ptr<const Relation> rel = f.table("items", {"id", "v"}, 1);
};

TEST_F(RetryTest, FailingTransactionIsNamedAndTheOnesBeforeItCommit) {
    reject_bad();
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    try {
        apply_group(r, "BAD");
        FAIL() << "the bad row was accepted";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_FALSE(e.retryable());
        EXPECT_EQ(e.sqlstate(), "23514");
        EXPECT_NE(msg.find("table public.items"), std::string::npos) << msg;
        EXPECT_NE(msg.find("source transaction 200, commit at LSN 0/C8"), std::string::npos) << msg;
        EXPECT_NE(msg.find("row with primary key id=200"), std::string::npos) << msg;
    }
    // Transaction 100 is committed with its checkpoint; 200 and 300 are not.
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|t1"}));
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/6C");
    ASSERT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(t.hooks.spans[0].txns, (OrdinalRange{Ordinal(100), Ordinal(100)}));
}

TEST_F(RetryTest, BatchErrorThatStrictOrderAvoidsIsSalvaged) {
    bool failed_once = false;
    f.db.fail = [&](const FakeStatement& s) -> std::optional<Error> {
        if (s.kind == FakeStatement::Kind::kUpsert && !failed_once) {
            failed_once = true;  // e.g. a unique index the catalog did not show
            return Error(ErrorKind::kFatal, "duplicate key value violates unique constraint",
                         "23505");
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    apply_group(r);
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|t1", "200|t2", "300|t3"}));
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/134");
}

// A process that learns it lost the stream's lease sends no COMMIT any more, whatever it was
// doing: the group is rolled back with the lease's error, and nothing is committed.
TEST_F(RetryTest, NoCommitOnceTheLeaseIsLost) {
    std::atomic<bool> revoked{false};
    sequencer::TransactionFence fence{"", {}, "this process no longer holds the lease", &revoked};
    f.fence = &fence;
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    apply_group(r);
    EXPECT_EQ(f.db.commits(), 1u);
    revoked = true;
    try {
        apply_group(r);
        FAIL() << "committed after the lease was lost";
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_STREQ(e.what(), "this process no longer holds the lease");
    }
    EXPECT_EQ(f.db.commits(), 1u);
}

TEST_F(RetryTest, RetryableErrorReplaysTheGroupFromMemory) {
    int failures = 2;
    f.db.fail = [&](const FakeStatement& s) -> std::optional<Error> {
        if (s.kind == FakeStatement::Kind::kUpsert && failures > 0) {
            --failures;
            return Error(ErrorKind::kRetryable, "could not serialize access", "40001");
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    apply_group(r);
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|t1", "200|t2", "300|t3"}));
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(t.hooks.spans.size(), 1u);
}

// Ordered commits: a group whose turn has not come writes its rows at once and commits once
// earlier groups have; if it waits too long it rolls back (its locks could be what an earlier
// group waits for), waits holding nothing, and applies again. Committed once, in its turn.
TEST_F(RetryTest, GroupThatWaitsTooLongForItsTurnGivesWayAndAppliesAgain) {
    size_t upserts = 0;
    f.db.fail = [&](const FakeStatement& s) -> std::optional<Error> {
        upserts += s.kind == FakeStatement::Kind::kUpsert ? 1 : 0;
        return std::nullopt;
    };
    testing::TestApplier t(f);
    t.hooks.turns = {Schedule::Turn::kTimeout, Schedule::Turn::kTimeout};
    apply_group(t.retrying);
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|t1", "200|t2", "300|t3"}));
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(upserts, 2u) << "written before the wait, and again in its turn";
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/134");
    EXPECT_FALSE(t.applier.gave_way());
}

// A group whose turn is not there yet sends its rows before it waits, so that they execute
// while earlier groups commit; only the COMMIT waits.
TEST_F(RetryTest, GroupWaitingForItsTurnWritesItsRowsFirst) {
    testing::TestApplier t(f);
    t.hooks.turns = {Schedule::Turn::kTimeout, Schedule::Turn::kReady};
    apply_group(t.retrying);
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(t.session.pipelines(), 2u) << "rows, then checkpoint and COMMIT";
    EXPECT_EQ(t.hooks.turn_waits, 2u);
}

// Another worker failed first: this group must not commit after it.
TEST_F(RetryTest, GroupIsNotCommittedWhenAnEarlierOneFailed) {
    testing::TestApplier t(f);
    t.hooks.turns = {Schedule::Turn::kTimeout, Schedule::Turn::kAborted, Schedule::Turn::kAborted};
    try {
        apply_group(t.retrying);
        FAIL() << "committed after an earlier group failed";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("earlier group failed"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(f.db.commits(), 0u);
    EXPECT_TRUE(f.dump("items").empty());
}

// After --maxRetries in-place retries the pipeline starts again from the checkpoint (the
// error stays retryable, as MOLT's apply loop restarts); nothing is committed meanwhile.
TEST_F(RetryTest, RetriesRunOutIntoARestartFromTheCheckpoint) {
    f.db.fail = [](const FakeStatement& s) -> std::optional<Error> {
        if (s.kind == FakeStatement::Kind::kUpsert) {
            return Error(ErrorKind::kRetryable, "could not serialize access", "40001");
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    try {
        apply_group(r);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("after 3 retries (--maxRetries), restarting"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(f.db.commits(), 0u);
    EXPECT_TRUE(t.hooks.spans.empty());
}

TEST_F(RetryTest, CommitWhoseAcknowledgementWasLostIsNotAppliedAgain) {
    f.db.break_next_commit(/*landed=*/true);
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    apply_group(r);
    // The checkpoint written with the COMMIT shows that it landed: committed once.
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.dump("items").size(), 3u);
}

// The first look at the checkpoint fails too (the new connection is killed as well): the group
// is rolled back before the retry, and the next look must still ask about that group.
TEST_F(RetryTest, CommitInDoubtWhoseFirstLookFailsIsNotAppliedAgain) {
    f.db.break_next_commit(/*landed=*/true);
    testing::TestApplier t(f);
    t.hooks.failing_looks = 1;
    apply_group(t.retrying);
    EXPECT_EQ(t.hooks.failing_looks, 0u);
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.dump("items").size(), 3u);
}

// CockroachDB answers 40003 ("statement completion unknown") when it cannot tell whether a
// COMMIT took effect, with the connection still up. The checkpoint written with the COMMIT
// settles it, as when the connection breaks.
TEST_F(RetryTest, AmbiguousCommitThatLandedIsNotAppliedAgain) {
    f.db.break_next_commit(/*landed=*/true, testing::FakeDatabase::CommitFault::kAmbiguousResult);
    testing::TestApplier t(f);
    apply_group(t.retrying);
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.dump("items").size(), 3u);
    EXPECT_EQ(t.session.connects(), 1u);  // the connection was never lost
}

// pg_terminate_backend: the answer to a COMMIT that was done can be the session's FATAL
// 57P01, and libpq reads it before it sees the connection close. Also in doubt.
TEST_F(RetryTest, CommitAnsweredByATerminationIsInDoubt) {
    f.db.break_next_commit(/*landed=*/true, testing::FakeDatabase::CommitFault::kTerminated);
    testing::TestApplier t(f);
    apply_group(t.retrying);
    EXPECT_EQ(f.db.commits(), 1u) << "a COMMIT that landed was applied again";
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.dump("items").size(), 3u);
}

// An answer that cannot be read is not retryable, and would be salvaged (applied again one
// transaction at a time): in doubt, the checkpoint is read first.
TEST_F(RetryTest, UnreadableAnswerToACommitThatLandedIsNotSalvagedAgain) {
    f.db.break_next_commit(/*landed=*/true, testing::FakeDatabase::CommitFault::kGarbled);
    testing::TestApplier t(f);
    apply_group(t.retrying);
    EXPECT_EQ(f.db.commits(), 1u) << "a COMMIT that landed was applied again";
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.dump("items").size(), 3u);
}

TEST_F(RetryTest, AmbiguousCommitThatDidNotLandIsAppliedAgain) {
    f.db.break_next_commit(/*landed=*/false, testing::FakeDatabase::CommitFault::kAmbiguousResult);
    testing::TestApplier t(f);
    apply_group(t.retrying);
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|t1", "200|t2", "300|t3"}));
}

TEST_F(RetryTest, GroupAfterALandedCommitIsAppliedInATransactionOfItsOwn) {
    f.options.flush_size = 2;  // the next group is written in pieces before its COMMIT
    f.db.break_next_commit(/*landed=*/true);
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    apply_group(r);
    ASSERT_EQ(f.db.commits(), 1u);
    std::vector<Mutation> rows;
    for (int i = 0; i < 5; ++i) {
        rows.push_back(testing::upsert(rel, {std::to_string(1000 + i), "next"}));
    }
    for (ChangeItem& item : testing::transaction(400, rows)) {
        r.apply(std::move(item));
    }
    // Written, but not visible before its COMMIT.
    EXPECT_EQ(f.dump("items").size(), 3u);
    r.end_group();
    EXPECT_EQ(f.dump("items").size(), 8u);
    EXPECT_EQ(f.db.commits(), 2u);
}

TEST_F(RetryTest, SalvageKeepsStrictOrderIfThatIsWhatWasAskedFor) {
    f.options.collapse = false;  // --collapseMutations=false
    int statements = 0;
    bool failed_once = false;
    f.db.fail = [&](const FakeStatement& s) -> std::optional<Error> {
        if (s.kind != FakeStatement::Kind::kUpsert && s.kind != FakeStatement::Kind::kDelete) {
            return std::nullopt;
        }
        ++statements;
        if (!failed_once) {
            failed_once = true;
            return Error(ErrorKind::kFatal, "duplicate key value", "23505");
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    apply_group(r);  // fails once, salvaged
    statements = 0;
    for (ChangeItem& item : testing::transaction(
             400, {testing::upsert(rel, {"7", "a"}), testing::remove(rel, {"7", "~"}),
                   testing::upsert(rel, {"7", "b"})})) {
        r.apply(std::move(item));
    }
    r.end_group();
    EXPECT_EQ(statements, 3) << "one statement per change, in source order";
    EXPECT_EQ(f.dump("items").back(), "7|b");
}

TEST_F(RetryTest, CommitThatDidNotLandIsAppliedAgain) {
    f.db.break_next_commit(/*landed=*/false);
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    apply_group(r);
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(t.hooks.spans.size(), 1u);
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"100|t1", "200|t2", "300|t3"}));
    EXPECT_EQ(t.session.connects(), 2u);  // reconnected to ask, and to apply again
}

TEST_F(RetryTest, GroupTooLargeToKeepIsLeftToTheSource) {
    f.options.flush_size = 10000;
    int upserts = 0;
    f.db.fail = [&](const FakeStatement& s) -> std::optional<Error> {
        // The sixth piece of 10 000 rows: the group is past 50 000 rows by then.
        if (s.kind == FakeStatement::Kind::kUpsert && ++upserts == 6) {
            return Error(ErrorKind::kRetryable, "could not serialize access", "40001");
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    std::vector<Mutation> rows;
    for (int i = 0; i < 60000; ++i) {
        rows.push_back(testing::upsert(rel, {std::to_string(i), "x"}));
    }
    try {
        for (ChangeItem& item : testing::transaction(100, rows, 10000)) {
            r.apply(std::move(item));
        }
        r.end_group();
        FAIL() << "no error";
    } catch (const Error& e) {
        // Over 50 000 rows are not kept: the pipeline restarts and the source sends them again.
        EXPECT_TRUE(e.retryable()) << e.what();
        EXPECT_EQ(e.sqlstate(), "40001");
        std::string what = e.what();
        EXPECT_NE(
            what.find("more than 50000 row changes or 32 MiB failed to apply and will be read from "
                      "the source again and applied whole"),
            std::string::npos)
            << what;
        EXPECT_NE(what.find("could not serialize access"), std::string::npos) << what;
    }
    EXPECT_EQ(f.db.commits(), 0u);
}

// Wide rows: a streamed transaction (past an ordinary group's 4 x --flushSize rows) of 40
// row changes of 1 MiB is far below 50 000 rows but over 32 MiB, so it is not kept either (it
// would hold its whole size in memory beside the bounded queues).
TEST_F(RetryTest, GroupOfWideRowsTooLargeToKeepIsLeftToTheSource) {
    f.options.flush_size = 4;
    int upserts = 0;
    f.db.fail = [&](const FakeStatement& s) -> std::optional<Error> {
        if (s.kind == FakeStatement::Kind::kUpsert && ++upserts == 10) {  // rows 37-40
            return Error(ErrorKind::kRetryable, "could not serialize access", "40001");
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    std::vector<Mutation> rows;
    for (int i = 0; i < 40; ++i) {
        rows.push_back(testing::upsert(rel, {std::to_string(i), std::string(1 << 20, 'w')}));
    }
    try {
        for (ChangeItem& item : testing::transaction(100, rows, 4)) {
            r.apply(std::move(item));
        }
        r.end_group();
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.retryable()) << e.what();
        EXPECT_NE(std::string(e.what()).find("or 32 MiB failed to apply"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(f.db.commits(), 0u);
}

// An ordinary group (at most 4 x --flushSize rows) is kept whatever its bytes: 12 rows of
// 4 MiB fail once and are retried from memory, with no trip back to the source.
TEST_F(RetryTest, OrdinaryGroupOfWideRowsIsStillRetriedInMemory) {
    f.options.flush_size = 4;
    f.options.retry.initial_backoff = std::chrono::milliseconds(1);
    int upserts = 0;
    f.db.fail = [&](const FakeStatement& s) -> std::optional<Error> {
        if (s.kind == FakeStatement::Kind::kUpsert && ++upserts == 3) {
            return Error(ErrorKind::kRetryable, "could not serialize access", "40001");
        }
        return std::nullopt;
    };
    testing::TestApplier t(f);
    RetryingApplier& r = t.retrying;
    std::vector<Mutation> rows;
    for (int i = 0; i < 12; ++i) {
        rows.push_back(testing::upsert(rel, {std::to_string(i), std::string(4 << 20, 'w')}));
    }
    for (ChangeItem& item : testing::transaction(100, rows, 4)) {
        r.apply(std::move(item));
    }
    r.end_group();
    EXPECT_EQ(f.db.commits(), 1u);
    EXPECT_EQ(f.dump("items").size(), 12u);
}

}  // namespace
}  // namespace rep::sequencer
