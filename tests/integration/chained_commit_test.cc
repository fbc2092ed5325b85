// Chained commits on a real PostgreSQL (docs/architecture.md §2.8, "Chaining"): a group's
// pipeline sent behind the previous group's COMMIT before that COMMIT is answered, guarded by
// the previous group's checkpoint row. What the apply engine relies on, checked against the
// server rather than the unit tests' fake: the server runs the second pipeline after the
// first, a failed first COMMIT makes the guard fail so the second group never commits, and a
// statement prepared in the first pipeline counts as prepared for the second.

#include "staging/memo.h"
#include "util/pg_conn.h"

#include "harness.h"
#include <gtest/gtest.h>

#include <deque>

namespace {

using rep::Error;
using rep::util::PgConn;
using rep::util::TargetSession;

struct ChainedCommit : ::testing::Test {
    ChainedCommit()
        : db("it_chained_commit",
             // A deferred unique constraint fails at COMMIT, as a serialization failure at
             // commit does on CockroachDB.
             "CREATE TABLE t (id INT PRIMARY KEY, v TEXT, "
             "CONSTRAINT v_unique UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)",
             /*create_slot=*/false),
          dialect(rep::target::TargetProduct::kPostgres),
          memo(dialect, rep::SchemaRef::parse("_replicator", "--stagingSchema")),
          conn(db.target_url, "target") {
        memo.ensure(conn, /*create=*/true);  // names its table
        guard = memo.guard_sql();
        upsert = memo.upsert_sql(1);
    }

    // BEGIN; [guard that `after` landed]; INSERT rows through the prepared statement "ins";
    // memo := `end`; COMMIT.
    void send_group(const std::vector<std::pair<std::string, std::string>>& rows,
                    const std::string& end, const std::string& after = "") {
        std::deque<std::string> keep;  // the values, alive while the calls are sent
        auto text = [&](const std::string& value) { return keep.emplace_back(value).c_str(); };
        std::vector<TargetSession::PipelineCall> calls;
        calls.push_back({nullptr, &kBegin, {}});
        if (!after.empty()) {
            calls.push_back({nullptr, &guard, {text(kKey), text(after)}});
        }
        for (const auto& [id, v] : rows) {
            calls.push_back({&kIns, &kInsSql, {text(id), text(v)}});
        }
        calls.push_back({nullptr, &upsert, {text(kKey), text(end)}});
        calls.push_back({nullptr, &kCommit, {}});
        conn.send_pipeline(calls);
    }
    // The error finish_pipeline() throws, or nullopt.
    std::optional<Error> finish() {
        size_t failed = 0;
        try {
            conn.finish_pipeline(&failed);
        } catch (const Error& e) {
            return e;
        }
        return std::nullopt;
    }
    std::optional<std::string> memo_value() {
        return db.target->value(
            "SELECT convert_from(value, 'UTF8') FROM _replicator.memo WHERE key = '" + kKey + "'");
    }

    harness::Databases db;
    rep::target::Dialect dialect;
    rep::staging::Memo memo;
    PgConn conn;
    const std::string kKey = "chain-test";
    const std::string kBegin = "BEGIN";
    const std::string kCommit = "COMMIT";
    const std::string kIns = "chain_ins";
    const std::string kInsSql = "INSERT INTO t (id, v) VALUES ($1::INT, $2)";
    std::string guard;
    std::string upsert;
};

TEST_F(ChainedCommit, SecondGroupRunsBehindTheFirstAndBothCommit) {
    send_group({{"1", "a"}, {"2", "b"}}, "end-1");
    send_group({{"3", "c"}}, "end-2", /*after=*/"end-1");
    EXPECT_EQ(conn.pipelines_unanswered(), 2u);
    std::optional<Error> first = finish();
    EXPECT_FALSE(first.has_value()) << first->what();
    std::optional<Error> second = finish();
    EXPECT_FALSE(second.has_value())
        << "the guard passed, and the prepared statement was known: " << second->what();
    EXPECT_EQ(db.target->count("t"), 3);
    EXPECT_EQ(memo_value(), "end-2");
    conn.execute("SELECT 1");  // the connection is usable again
}

TEST_F(ChainedCommit, GroupBehindAFailedCommitNeverCommits) {
    send_group({{"1", "a"}}, "end-1");
    ASSERT_FALSE(finish().has_value());
    // Group 2's COMMIT fails (the deferred constraint); group 3 was sent behind it.
    send_group({{"2", "dup"}, {"3", "dup"}}, "end-2", "end-1");
    send_group({{"4", "d"}}, "end-3", "end-2");
    std::optional<Error> first = finish();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->sqlstate(), "23505") << first->what();
    std::optional<Error> second = finish();
    ASSERT_TRUE(second.has_value()) << "the group behind a failed COMMIT committed";
    EXPECT_EQ(second->sqlstate(), "22P02") << second->what();
    EXPECT_NE(std::string(second->what()).find(rep::staging::Memo::kChainBroken), std::string::npos)
        << second->what();
    conn.execute("ROLLBACK");
    EXPECT_EQ(db.target->count("t"), 1);
    EXPECT_EQ(memo_value(), "end-1");
}

TEST_F(ChainedCommit, GroupBehindOneThatFailedEarlyNeverCommits) {
    // The first group fails at a statement (a duplicate primary key): the server skips the
    // rest of its pipeline and leaves its transaction aborted; the second must not commit.
    db.target->exec("INSERT INTO t VALUES (9, 'z')");
    send_group({{"9", "y"}}, "end-1");
    send_group({{"4", "d"}}, "end-2", "end-1");
    std::optional<Error> first = finish();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->sqlstate(), "23505");
    EXPECT_TRUE(finish().has_value());
    conn.execute("ROLLBACK");
    EXPECT_EQ(db.target->count("t"), 1);
    EXPECT_EQ(memo_value(), std::nullopt);
}

}  // namespace
