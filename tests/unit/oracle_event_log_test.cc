// Large open Oracle transactions on disk: the event log's spill, truncation and read-back
// against a plain vector, the backward undo resolution against the forward LIFO rule, and
// the transaction buffer holding a transaction far larger than its memory limit.

#include "base/error.h"
#include "source/oracle/event_log.h"
#include "source/oracle/txn_buffer.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/resource.h>
#include <unistd.h>
#include <unordered_map>

namespace rep::oracle {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
    std::filesystem::path dir = std::filesystem::path(testing::TempDir()) /
                                ("oracle-spill-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
}

std::vector<TxnEvent> contents(const EventLog& log) {
    std::vector<TxnEvent> out;
    size_t expect = 0;
    log.for_each([&](const TxnEvent& e, size_t i) {
        EXPECT_EQ(i, expect++);
        out.push_back(e);
    });
    return out;
}

bool same(const TxnEvent& a, const TxnEvent& b) {
    return a.scn == b.scn && a.row_id == b.row_id && a.table == b.table &&
           a.sql_redo == b.sql_redo && a.undo == b.undo;
}

// The rule as the buffer applied it before spilling existed: forward, a stack per ROW_ID.
std::vector<TxnEvent> resolve_forward(const std::vector<TxnEvent>& events) {
    std::vector<bool> live(events.size(), false);
    std::unordered_map<std::string, std::vector<size_t>> by_row;
    for (size_t i = 0; i < events.size(); ++i) {
        std::vector<size_t>& stack = by_row[events[i].row_id];
        if (!events[i].undo) {
            live[i] = true;
            stack.push_back(i);
        } else if (!stack.empty()) {
            live[stack.back()] = false;
            stack.pop_back();
        }
    }
    std::vector<TxnEvent> out;
    for (size_t i = 0; i < events.size(); ++i) {
        if (live[i]) {
            out.push_back(events[i]);
        }
    }
    return out;
}

// Random pushes (some events large enough to fill several chunks), spills and truncations,
// mirrored on a vector: the log reads back the same, forwards and backwards, and its undo
// resolution equals the forward rule's.
TEST(OracleEventLog, SpillsTruncatesAndReadsBackLikeAVector) {
    std::filesystem::path dir = fresh_dir("random");
    for (uint64_t seed = 1; seed <= 30; ++seed) {
        SCOPED_TRACE(seed);
        std::mt19937_64 rng(seed);
        EventLog log;
        std::vector<TxnEvent> mirror;
        for (int step = 0; step < 400; ++step) {
            int what = static_cast<int>(rng() % 20);
            if (what < 15) {
                TxnEvent e;
                e.scn = 1000 + step;
                e.row_id = "R" + std::to_string(rng() % 6);
                e.table = "T" + std::to_string(rng() % 3);
                e.undo = rng() % 4 == 0;
                size_t len = rng() % 50 == 0 ? 300000 + rng() % 100000 : rng() % 80;
                e.sql_redo = e.undo ? "" : std::string(len, static_cast<char>('a' + rng() % 26));
                mirror.push_back(e);
                log.push(std::move(e));
            } else if (what < 18) {
                log.spill(dir);
                EXPECT_EQ(log.memory_bytes(), 0u);
            } else if (!mirror.empty()) {
                size_t n = rng() % (mirror.size() + 1);
                log.truncate(n);
                mirror.resize(n);
            }
            ASSERT_EQ(log.size(), mirror.size());
        }
        std::vector<TxnEvent> back = contents(log);
        ASSERT_EQ(back.size(), mirror.size());
        for (size_t i = 0; i < back.size(); ++i) {
            ASSERT_TRUE(same(back[i], mirror[i])) << i;
        }
        size_t expect = mirror.size();
        log.for_each_reverse([&](const TxnEvent& e, size_t i) {
            ASSERT_EQ(i, --expect);
            ASSERT_TRUE(same(e, mirror[i]));
        });
        std::vector<TxnEvent> want = resolve_forward(mirror);
        LiveEvents live(std::move(log));
        std::vector<TxnEvent> got = live.to_vector();
        ASSERT_EQ(got.size(), want.size());
        ASSERT_EQ(live.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_TRUE(same(got[i], want[i])) << i;
        }
    }
    // The files were unlinked when created: nothing is left behind, even while in use.
    EXPECT_TRUE(std::filesystem::is_empty(dir));
    std::filesystem::remove_all(dir);
}

TEST(OracleEventLog, ASpillThatCannotBeWrittenIsARetryableErrorNamingTheFix) {
    std::filesystem::path file = fresh_dir("blocked");
    std::ofstream(file) << "a file where the directory should be";
    EventLog log;
    log.push({1, "R", "T", "insert", false});
    try {
        log.spill(file / "oracle-spill");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("--transactionBufferBytes"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(log.size(), 1u);  // still whole in memory
    std::filesystem::remove(file);
}

// A disk that fills in the middle of a spill (a file size limit here): the spill fails as a
// whole, every event is still there once and in order, and a later spill succeeds.
TEST(OracleEventLog, ASpillThatFailsPartWayLeavesTheLogAsItWas) {
    std::filesystem::path dir = fresh_dir("partial");
    EventLog log;
    std::vector<TxnEvent> pushed;
    auto push = [&](size_t bytes) {
        TxnEvent e{pushed.size(), "R" + std::to_string(pushed.size()), "T", std::string(bytes, 'p'),
                   false};
        pushed.push_back(e);
        log.push(std::move(e));
    };
    push(100);
    log.spill(dir);
    for (int i = 0; i < 3; ++i) {
        push(600 << 10);  // two chunks: the first holds two of these
    }
    rlimit old{};
    ::getrlimit(RLIMIT_FSIZE, &old);
    auto* previous = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 3U << 20 >> 1;  // 1.5 MiB: the first new chunk fits, the second does not
    ::setrlimit(RLIMIT_FSIZE, &small);
    bool failed = false;
    try {
        log.spill(dir);
    } catch (const Error& e) {
        failed = e.retryable();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, previous);
    EXPECT_TRUE(failed);
    auto check = [&] {
        std::vector<TxnEvent> back = contents(log);
        ASSERT_EQ(back.size(), pushed.size());
        for (size_t i = 0; i < back.size(); ++i) {
            EXPECT_TRUE(same(back[i], pushed[i])) << i;
        }
    };
    check();
    EXPECT_GT(log.memory_bytes(), 0u);
    log.spill(dir);
    EXPECT_EQ(log.memory_bytes(), 0u);
    check();
    std::filesystem::remove_all(dir);
}

MinedRow insert_row(uint64_t scn, const std::string& xid, int i) {
    MinedRow r;
    r.scn = scn;
    r.xid = xid;
    r.op = 1;
    r.row_id = "ROW" + std::to_string(i);
    r.table = "T";
    r.sql_redo = "insert into \"APP\".\"T\"(\"ID\") values ('" + std::to_string(i) + "')";
    return r;
}

// A 20,000-row transaction under a 64 KiB limit, next to a small one: the buffer's memory
// stays under the limit, the large one goes to disk and comes back whole and in order at its
// commit, and a failed window over it leaves no trace.
TEST(OracleEventLog, TheBufferHoldsATransactionLargerThanItsMemoryLimit) {
    const std::string big = "0f001f0040060000";
    const std::string small = "0a0002002a010000";
    std::filesystem::path dir = fresh_dir("buffer");
    TxnBuffer b({}, SpillOptions{dir, 64 << 10});
    b.begin_window();
    b.add(insert_row(9, small, -1));
    for (int i = 0; i < 10000; ++i) {
        b.add(insert_row(10 + i, big, i));
        ASSERT_LE(b.memory_bytes(), size_t{64 << 10});
    }
    EXPECT_EQ(b.spilled(), 1u);
    b.end_window();
    // A window that adds the second half and fails: aborted, then read again.
    for (int attempt = 0; attempt < 2; ++attempt) {
        b.begin_window();
        for (int i = 10000; i < 20000; ++i) {
            b.add(insert_row(10 + i, big, i));
        }
        if (attempt == 0) {
            b.abort_window();
        }
    }
    MinedRow commit;
    commit.scn = 30000;
    commit.xid = big;
    commit.op = 7;
    b.add(commit);
    std::vector<TxnAction> actions = b.end_window();
    ASSERT_EQ(actions.size(), 1u);
    ASSERT_EQ(actions[0].kind, TxnAction::Kind::kCommit);
    EXPECT_EQ(actions[0].start_scn, 10u);
    EXPECT_TRUE(actions[0].events.spilled());
    ASSERT_EQ(actions[0].events.size(), 20000u);
    int next = 0;
    actions[0].events.for_each([&](const TxnEvent& e) {
        ASSERT_EQ(e.row_id, "ROW" + std::to_string(next));
        ASSERT_EQ(e.scn, static_cast<uint64_t>(10 + next));
        ++next;
    });
    EXPECT_EQ(next, 20000);
    EXPECT_EQ(b.in_flight(), 1u);  // the small one, still in memory
    EXPECT_EQ(b.spilled(), 0u);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rep::oracle
