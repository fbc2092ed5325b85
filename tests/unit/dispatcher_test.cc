// The whole apply side with fake target sessions: the dispatcher, the Schedule and one or
// several workers. Whatever the number of workers, the target must end as the source did,
// every row's changes applied in source order, Progress at the last commit, and the
// checkpoint in the memo table in the format of docs/staging.md §3-4.

#include "sequencer/dispatcher.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

#include <random>
#include <thread>

namespace rep::sequencer {
namespace {

using testing::FakeStatement;

struct DispatcherTest : ::testing::Test {
    // 300 transactions of 1-5 row changes over 20 hot keys; each change writes the
    // transaction's number, so the last writer of every key is visible at the end.
    std::vector<ChangeItem> workload(std::map<std::string, std::string>& model) {
        std::mt19937 rng(7);
        std::vector<ChangeItem> items;
        for (uint64_t t = 1; t <= 300; ++t) {
            std::vector<Mutation> ms;
            size_t n = 1 + rng() % 5;
            for (size_t i = 0; i < n; ++i) {
                std::string key = std::to_string(rng() % 20);
                if (rng() % 7 == 0 && model.contains(key)) {
                    ms.push_back(testing::remove(rel, {key, "~"}));
                    model.erase(key);
                } else {
                    ms.push_back(testing::upsert(rel, {key, std::to_string(t)}));
                    model[key] = std::to_string(t);
                }
            }
            for (ChangeItem& item : testing::transaction(t * 100, ms)) {
                items.push_back(std::move(item));
            }
        }
        return items;
    }

    void run(size_t workers, std::vector<ChangeItem> items,
             const staging::AppliedSet& applied = {}) {
        f.options.workers = workers;
        f.options.flush_size = 8;  // many small groups
        util::BoundedQueue<ChangeItem> queue(1 << 20);
        for (ChangeItem& item : items) {
            queue.push_for(item, std::chrono::seconds(1));
        }
        queue.close();
        std::vector<std::unique_ptr<testing::FakeSession>> sessions;
        std::vector<util::TargetSession*> pointers;
        for (size_t i = 0; i < workers; ++i) {
            sessions.push_back(std::make_unique<testing::FakeSession>(f.db));
            pointers.push_back(sessions.back().get());
        }
        testing::FakeSession dispatcher_session(f.db);
        ApplyContext context = f.context();
        Dispatcher dispatcher(context, dispatcher_session, pointers, queue, applied);
        std::atomic<bool> stop{false};
        dispatcher.run(stop);
    }

    // Jitter on every statement, so that workers overtake one another.
    void jitter() {
        f.db.fail = [this](const FakeStatement&) -> std::optional<Error> {
            int us = 0;
            {
                std::lock_guard lock(jitter_mu);
                us = static_cast<int>(jitter_rng() % 300);
            }
            std::this_thread::sleep_for(std::chrono::microseconds(us));
            return std::nullopt;
        };
    }

    std::vector<std::string> expected(const std::map<std::string, std::string>& model) {
        std::map<std::string, std::string> by_key;  // the fake orders rows by "key|"
        for (const auto& [k, v] : model) {
            by_key[k + "|"] = k + "|" + v;
        }
        std::vector<std::string> out;
        for (const auto& [k, line] : by_key) {
            out.push_back(line);
        }
        return out;
    }

    testing::ApplyFixture f;
    std::shared_ptr<const Relation> rel = f.table("items", {"id", "v"}, 1);
    std::mt19937 jitter_rng{11};
    std::mutex jitter_mu;
};

TEST_F(DispatcherTest, OneWorkerCommitsInSourceOrderWithThePlainCheckpoint) {
    std::map<std::string, std::string> model;
    run(1, workload(model));
    EXPECT_EQ(f.dump("items"), expected(model));
    EXPECT_EQ(f.progress.get().text, "0/7538");  // the end of transaction 30000
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/7538");
    EXPECT_FALSE(f.db.memo(std::string(testing::kMemoKey) + "#w0")) << "no records with one";
}

TEST_F(DispatcherTest, SeveralWorkersKeepEveryRowInSourceOrder) {
    jitter();
    std::map<std::string, std::string> model;
    run(4, workload(model));
    EXPECT_EQ(f.dump("items"), expected(model));
    EXPECT_EQ(f.progress.get().text, "0/7538");
    // Commits in source order: every commit moved the plain row forward, and no worker
    // needed a record of its own.
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/7538");
    std::vector<std::string> writes = f.db.memo_writes(testing::kMemoKey);
    EXPECT_EQ(writes.size(), f.db.commits());
    for (size_t i = 1; i < writes.size(); ++i) {
        EXPECT_LT(pg::Lsn::parse(writes[i - 1])->value(), pg::Lsn::parse(writes[i])->value())
            << "commit " << i << " went back from " << writes[i - 1] << " to " << writes[i];
    }
    EXPECT_FALSE(f.db.memo(std::string(testing::kMemoKey) + "#w0"));
}

// With one of several connections active, groups are formed without their keys and each
// conflicts with all (Schedule::kEveryKey): through the real dispatcher, workers and
// applier they still end as the source did, committed in source order. (Placement with one
// connection active is the same with keys or without; the Schedule tests cover what the
// mark changes when the limit moves.)
TEST_F(DispatcherTest, WithOneConnectionActiveGroupsGoKeylessAndInSourceOrder) {
    jitter();
    f.options.start_parallelism = 1;  // no backlog here, so the limit stays where it starts
    std::map<std::string, std::string> model;
    run(4, workload(model));
    EXPECT_EQ(f.dump("items"), expected(model));
    EXPECT_EQ(f.progress.get().text, "0/7538");
    std::vector<std::string> writes = f.db.memo_writes(testing::kMemoKey);
    EXPECT_EQ(writes.size(), f.db.commits());
    for (size_t i = 1; i < writes.size(); ++i) {
        EXPECT_LT(pg::Lsn::parse(writes[i - 1])->value(), pg::Lsn::parse(writes[i])->value());
    }
}

TEST_F(DispatcherTest, UnorderedCommitsKeepEveryRowInSourceOrderWithRecords) {
    jitter();
    f.options.ordered_commits = false;
    std::map<std::string, std::string> model;
    run(4, workload(model));
    EXPECT_EQ(f.dump("items"), expected(model));
    EXPECT_EQ(f.progress.get().text, "0/7538");
    // The plain row is raised to the prefix when the run ends; worker 0 keeps a record.
    EXPECT_EQ(f.db.memo(testing::kMemoKey), "0/7538");
    auto record = f.db.memo(std::string(testing::kMemoKey) + "#w0");
    ASSERT_TRUE(record);
    EXPECT_EQ(record->rfind("prefix ", 0), 0u) << *record;
}

TEST_F(DispatcherTest, TransactionsTheRecordsListAreSkipped) {
    std::vector<ChangeItem> items;
    for (uint64_t t = 1; t <= 3; ++t) {
        for (ChangeItem& item :
             testing::transaction(t * 100, {testing::upsert(rel, {std::to_string(t), "x"})})) {
            items.push_back(std::move(item));
        }
    }
    // An earlier run committed transaction 200 beyond the plain checkpoint.
    auto applied = staging::AppliedSet::recover(Ordinal(0x50),
                                                {{Ordinal(0x50), {{Ordinal(200), Ordinal(200)}}}});
    run(2, std::move(items), applied);
    EXPECT_EQ(f.dump("items"), (std::vector<std::string>{"1|x", "3|x"}));
    EXPECT_EQ(f.progress.get().text, "0/134");
}

// A source that goes quiet after a keepalive: with the run still going, the checkpoint
// records the keepalive's position once nothing is in flight, and only then may the source
// be told it (confirmable), so a source slot never passes the memo.
TEST_F(DispatcherTest, PositionsPassedWhileIdleAreRecordedBeforeTheyAreConfirmable) {
    for (size_t workers : {size_t(1), size_t(3)}) {
        SCOPED_TRACE(workers);
        testing::ApplyFixture g;
        g.options.workers = workers;
        auto table = g.table("items", {"id", "v"}, 1);
        util::BoundedQueue<ChangeItem> queue(1 << 20);
        for (ChangeItem& item : testing::transaction(0x100, {testing::upsert(table, {"1", "a"})})) {
            queue.push_for(item, std::chrono::seconds(1));
        }
        ChangeItem keepalive;
        keepalive.kind = ChangeItem::Kind::kKeepalive;
        keepalive.position = pg::Lsn(0x500).position();
        queue.push_for(keepalive, std::chrono::seconds(1));
        std::vector<std::unique_ptr<testing::FakeSession>> sessions;
        std::vector<util::TargetSession*> pointers;
        for (size_t i = 0; i < workers; ++i) {
            sessions.push_back(std::make_unique<testing::FakeSession>(g.db));
            pointers.push_back(sessions.back().get());
        }
        testing::FakeSession dispatcher_session(g.db);
        ApplyContext context = g.context();
        Dispatcher dispatcher(context, dispatcher_session, pointers, queue, {});
        std::atomic<bool> stop{false};
        std::thread runner([&] { dispatcher.run(stop); });
        // The invariant holds at every moment; the memo catches up on a dispatcher tick.
        bool recorded = false;
        for (int i = 0; i < 500 && !recorded; ++i) {
            Ordinal confirmable = g.progress.confirmable();
            auto memo = g.db.memo(testing::kMemoKey);
            Ordinal in_memo = memo ? g.codec.parse(*memo).value().ordinal : Ordinal();
            EXPECT_LE(confirmable, in_memo);
            recorded = memo == "0/500";
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        EXPECT_TRUE(recorded) << g.db.memo(testing::kMemoKey).value_or("(none)");
        EXPECT_EQ(g.progress.confirmable(), Ordinal(0x500));
        stop = true;
        queue.close();
        runner.join();
    }
}

TEST_F(DispatcherTest, WorkerErrorStopsTheRunAndNamesTheTransaction) {
    f.db.fail = [](const FakeStatement& s) -> std::optional<Error> {
        for (const auto& row : s.rows) {
            if (row.size() > 1 && row[1] == "150") {
                return Error(ErrorKind::kFatal, "value too long for type character(2)", "22001");
            }
        }
        return std::nullopt;
    };
    // Strict order: folded, a later change of the same key in the group could hide the value.
    f.options.collapse = false;
    std::map<std::string, std::string> model;
    try {
        run(3, workload(model));
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("source transaction 15000"), std::string::npos)
            << e.what();
    }
    // Nothing at or after the failing transaction is confirmed.
    EXPECT_LT(f.progress.ordinal(), Ordinal(15000));
}

}  // namespace
}  // namespace rep::sequencer
