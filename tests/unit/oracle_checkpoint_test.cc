// The Oracle source's checkpoint rules (reference §3.2-3.6): the restart SCN, the skip set,
// garbage collection, the first-run rule and window bounds, and a randomized run with crashes
// that checks the invariants the design rests on.

#include "source/oracle/checkpoint.h"
#include "source/oracle/txn_buffer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

namespace rep::oracle {
namespace {

TEST(OracleCheckpoint, RestartSkipAndCollection) {
    std::vector<CheckpointRow> rows = {
        {"frontier", 500, std::nullopt, false},
        {"t1", 120, 130, true},
        {"t2", 140, std::nullopt, false},
        {"t3", 150, 410, true},
        {"t4", 90, 100, true},
    };
    std::optional<Resume> r = resume_from(rows);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->restart_scn, 140u);  // t2 is still open: mining resumes at its first DML
    EXPECT_EQ(r->skip, (std::set<std::string>{"t1", "t3", "t4"}));
    EXPECT_EQ(collectable(rows), (std::vector<std::string>{"t1", "t4"}));  // committed below 140
    EXPECT_FALSE(resume_from({{"t1", 120, 130, true}}));  // no frontier yet: a first run

    EXPECT_FALSE(first_run_applies(99, 100));  // in the snapshot already
    EXPECT_TRUE(first_run_applies(100, 100));  // at S: applied again, harmlessly
    EXPECT_TRUE(first_run_applies(101, 100));
}

TEST(OracleCheckpoint, WindowEnds) {
    EXPECT_EQ(window_end(100, 3250, 10000, {9000, 12000}), 3349u);
    EXPECT_EQ(window_end(100, 3250, 1000, {9000}), 1000u);  // the current SCN caps
    EXPECT_EQ(window_end(100, 3250, 10000, {500}), 499u);   // a thread's unflushed redo caps
    EXPECT_EQ(window_end(100, 0, 10000, {9000}), 8999u);    // W <= 0: no size cap
    EXPECT_FALSE(window_end(100, 3250, 10000, {100}));      // idle: the sentinel is due
}

// A random interleaved workload mined in random windows through the TxnBuffer, with its
// checkpoint operations going through a FIFO whose durable part is a prefix; crashes lose a
// random suffix and restart from the durable rows. Throughout: R never decreases, and every
// transaction whose first DML lies below R was durably marked committed or rolled back, so a
// restart at R loses nothing.
TEST(OracleCheckpoint, RandomRunsWithCrashesKeepTheInvariants) {
    std::mt19937 rng(7);
    for (int run = 0; run < 30; ++run) {
        // The redo stream: at most one row per SCN.
        std::vector<MinedRow> redo;
        std::map<std::string, uint64_t> first_dml;
        std::set<std::string> rolled_back, open;
        uint64_t scn = 100;
        int next = 0;
        for (int step = 0; step < 400; ++step) {
            ++scn;
            if (open.size() < 4 && rng() % 3 == 0) {
                open.insert(fmt::format("{:016x}", ++next));
            }
            if (open.empty()) {
                continue;
            }
            auto it = open.begin();
            std::advance(it, rng() % open.size());
            std::string xid = *it;
            MinedRow r;
            r.scn = scn;
            r.xid = xid;
            unsigned pick = rng() % 10;
            if (pick < 7) {
                r.op = 1;
                r.row_id = "R" + std::to_string(scn);
                r.sql_redo = "ins";
                first_dml.emplace(xid, scn);
            } else if (first_dml.contains(xid)) {
                r.op = pick == 9 ? 36 : 7;
                if (r.op == 36) {
                    rolled_back.insert(xid);
                }
                open.erase(xid);
            } else {
                continue;
            }
            redo.push_back(r);
        }
        // Mining with crashes.
        std::map<std::string, CheckpointRow> durable;
        durable[kFrontierXid] = {kFrontierXid, 101, std::nullopt, false};
        std::set<std::string> ever_committed;
        uint64_t last_r = 0;
        for (int life = 0; life < 6; ++life) {
            std::vector<CheckpointRow> rows;
            rows.reserve(durable.size());
            for (auto& [k, v] : durable) {
                rows.push_back(v);
            }
            Resume resume = *resume_from(rows);
            ASSERT_GE(resume.restart_scn, last_r) << "run " << run << " life " << life;
            last_r = resume.restart_scn;
            for (const auto& [xid, first] : first_dml) {
                if (first < resume.restart_scn) {
                    EXPECT_TRUE(ever_committed.contains(xid) || rolled_back.contains(xid))
                        << "transaction " << xid << " starts at " << first << " below R "
                        << resume.restart_scn << " but was never durably committed";
                }
            }
            TxnBuffer buffer(resume.skip);
            std::vector<CheckpointRow> fifo;  // operations not durable yet
            std::vector<std::string> deletes_at;
            uint64_t lo = resume.restart_scn;
            size_t crash_after = 1 + rng() % 8;  // windows before the crash
            for (size_t w = 0; w < crash_after && lo <= scn; ++w) {
                uint64_t hi = std::min<uint64_t>(scn, lo + rng() % 40);
                buffer.begin_window();
                for (const MinedRow& r : redo) {
                    if (r.scn >= lo && r.scn <= hi) {
                        buffer.add(r);
                    }
                }
                for (TxnAction& a : buffer.end_window()) {
                    if (a.kind == TxnAction::Kind::kRegister) {
                        fifo.push_back({a.xid, a.start_scn, std::nullopt, false});
                    } else if (a.kind == TxnAction::Kind::kCommit) {
                        fifo.push_back({a.xid, a.start_scn, a.commit_scn, true});
                    } else {
                        fifo.push_back({a.xid, 0, std::nullopt, true});  // a delete
                        fifo.back().commit_scn = 0;
                    }
                }
                fifo.push_back({kFrontierXid, hi + 1, std::nullopt, false});
                lo = hi + 1;
                // Part of the FIFO becomes durable, in order.
                size_t durable_ops = rng() % (fifo.size() + 1);
                for (size_t i = 0; i < durable_ops; ++i) {
                    const CheckpointRow& op = fifo[i];
                    if (op.committed && op.commit_scn == 0) {
                        durable.erase(op.xid);  // rollback: the row goes
                        continue;
                    }
                    durable[op.xid] = op;
                    if (op.committed) {
                        ever_committed.insert(op.xid);
                    }
                }
                fifo.erase(fifo.begin(), fifo.begin() + static_cast<ptrdiff_t>(durable_ops));
                // Garbage collection now and then.
                if (rng() % 3 == 0) {
                    std::vector<CheckpointRow> now;
                    now.reserve(durable.size());
                    for (auto& [k, v] : durable) {
                        now.push_back(v);
                    }
                    for (const std::string& xid : collectable(now)) {
                        durable.erase(xid);
                    }
                }
            }
            // Crash: whatever is still in the FIFO is lost.
        }
    }
}

}  // namespace
}  // namespace rep::oracle
