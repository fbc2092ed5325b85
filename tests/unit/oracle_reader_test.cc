// The Oracle source's window loop against the simulated database (tests/oracle_sim): seeded
// random workloads with interleaved transactions, savepoints, failed statements, full
// rollbacks, log switches, archiving and purges, read window by window with injected faults
// and crashes at any point, the checkpoint table kept as the reference's §3.2 says. Checked
// (reference §6.3): the target equals the source's committed state at the end (I1) and,
// after every applied transaction, equals the source right after that commit (I2); the
// restart SCN never decreases (I4); every window stays within the flushed redo (I5).

#include "base/error.h"
#include "source/oracle/sql_redo.h"
#include "source/oracle/window_reader.h"

#include "oracle_world.h"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <unistd.h>

namespace rep::oracle {
namespace {

std::vector<CheckpointRow> rows_of(const std::map<std::string, CheckpointRow>& table) {
    std::vector<CheckpointRow> out;
    for (const auto& [k, v] : table) {
        out.push_back(v);
    }
    return out;
}

// One seeded run in `world`; `first_run_snapshot`: start from a snapshot taken mid-workload
// (--scn). A crash loses the reader, its buffer and the checkpoint operations not yet
// durable, and opens a new LogMiner session.
void run_seed(test::World& world, uint64_t seed, bool first_run_snapshot,
              int workload_steps = 1500) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937_64 rng(seed);
    sim::Target target(world.columns());

    // The durable `_oracle_checkpoint` rows. A first run starts at --scn S with the target
    // holding the source AS OF SCN S, mining from the oldest open transaction's first DML.
    std::map<std::string, CheckpointRow> durable;
    std::optional<uint64_t> snapshot;
    uint64_t start = world.current_scn();
    if (first_run_snapshot) {
        for (int i = 0; i < 150; ++i) {
            world.step();
        }
        world.tick();
        snapshot = world.current_scn();
        start = *snapshot;
        for (const auto& [xid, first] : world.open_first_scns()) {
            start = std::min(start, first);
        }
        target.load(world.snapshot());
        ASSERT_EQ(target.text(), world.state());
    }
    durable[kFrontierXid] = {kFrontierXid, start, std::nullopt, false};

    uint64_t last_restart = 0;
    size_t crashes = 0;
    size_t applied = 0;
    bool finished = false;
    for (int steps = 0;; ++steps) {
        Resume resume = *resume_from(rows_of(durable));
        ASSERT_GE(resume.restart_scn, last_restart) << "the restart SCN went back";
        last_restart = resume.restart_scn;
        ReaderOptions options;
        options.schema = "APP";
        options.window_size = 1 + static_cast<int64_t>(rng() % 40);
        options.fetch_rows = 1 + rng() % 7;
        options.max_window_attempts = 1000;  // faults are injected at random
        options.gap_retry_delay = std::chrono::milliseconds(0);
        if (seed % 3 != 0) {  // open transactions of a few events already go to disk
            options.spill = {std::filesystem::path(testing::TempDir()) /
                                 ("oracle-reader-spill-" + std::to_string(::getpid())),
                             300 + (seed * 7919) % 3000};
        }
        // The first-run rule holds until a frontier past S is durable (it is kept in the
        // memo); after that, everything below R committed long ago.
        if (snapshot && resume.restart_scn <= *snapshot) {
            options.snapshot_scn = snapshot;
        }
        if (crashes > 0) {
            world.reconnect();
        }
        WindowReader reader(world.miner(), options, resume);
        std::vector<CheckpointRow> fifo;  // checkpoint operations not durable yet
        bool crashed = false;
        while (!crashed) {
            if (!finished && steps > workload_steps) {
                world.finish();
                finished = true;
            }
            if (!finished && rng() % 3 != 0) {
                world.step();
                ++steps;
                continue;
            }
            if (rng() % 8 == 0) {
                world.faults(1 + rng() % 20, false);
            } else if (rng() % 30 == 0) {
                world.faults(0, true);
            }
            std::optional<Window> window;
            try {
                window = reader.next();
            } catch (const Error& e) {
                ASSERT_TRUE(e.retryable()) << e.what();
                continue;  // the same window again
            }
            if (!window) {
                if (finished) {
                    break;
                }
                continue;
            }
            uint64_t cap = world.current_scn();
            for (uint64_t last : world.last_redo()) {
                cap = std::min(cap, last - 1);
            }
            ASSERT_LE(window->hi, cap) << "the window passed unflushed redo";
            ASSERT_LE(window->hi - window->lo + 1, static_cast<uint64_t>(options.window_size));
            for (TxnAction& a : window->actions) {
                if (rng() % 150 == 0) {
                    crashed = true;  // in the middle of a window's actions
                    break;
                }
                if (a.kind == TxnAction::Kind::kRegister) {
                    fifo.push_back({a.xid, a.start_scn, std::nullopt, false});
                } else if (a.kind == TxnAction::Kind::kRollback) {
                    fifo.push_back({a.xid, 0, 0, true});  // a delete
                } else {
                    if (a.apply) {
                        for (const TxnEvent& e : a.events.to_vector()) {
                            target.apply(e.sql_redo);
                        }
                        ++applied;
                        ASSERT_EQ(target.text(), world.state_after(a.xid))
                            << "after applying " << a.xid << " at commit SCN " << a.commit_scn;
                    }
                    // The mark rides in the target transaction with the data (staging is the
                    // target): durable at once.
                    durable[a.xid] = {a.xid, a.start_scn, a.commit_scn, true};
                }
            }
            if (crashed) {
                break;
            }
            fifo.push_back({kFrontierXid, window->hi + 1, std::nullopt, false});
            // A prefix of the FIFO becomes durable, as one atomic batch.
            size_t n = rng() % (fifo.size() + 1);
            if (finished) {
                n = fifo.size();
            }
            for (size_t i = 0; i < n; ++i) {
                const CheckpointRow& op = fifo[i];
                if (op.committed && op.commit_scn == 0) {
                    durable.erase(op.xid);
                } else if (!op.committed && op.xid != kFrontierXid) {
                    durable.emplace(op.xid, op);  // a registration never overwrites a mark
                } else {
                    durable[op.xid] = op;
                }
            }
            fifo.erase(fifo.begin(), fifo.begin() + static_cast<ptrdiff_t>(n));
            if (rng() % 4 == 0) {
                for (const std::string& xid : collectable(rows_of(durable))) {
                    durable.erase(xid);
                }
                world.purge(resume_from(rows_of(durable))->restart_scn);
            }
            if (!finished && rng() % 40 == 0) {
                crashed = true;
            }
        }
        if (!crashed) {
            break;
        }
        ++crashes;
    }
    EXPECT_EQ(target.text(), world.state());
    for (const auto& [xid, row] : durable) {
        EXPECT_TRUE(row.committed || xid == kFrontierXid) << xid << " still open";
    }
    EXPECT_GT(applied, 20U);
    ::testing::Test::RecordProperty("crashes", static_cast<int>(crashes));
}

TEST(OracleReader, RandomWorkloadsWithCrashesConverge) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        int threads = 1 + static_cast<int>(seed % 2);
        test::InProcessWorld world(seed, threads);
        run_seed(world, seed, false);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(OracleReader, FirstRunFromASnapshotScn) {
    for (uint64_t seed = 100; seed <= 130; ++seed) {
        int threads = 1 + static_cast<int>(seed % 2);
        test::InProcessWorld world(seed, threads);
        run_seed(world, seed, true);
        if (HasFatalFailure()) {
            return;
        }
    }
}

// The same through the production OCI code: OciSession and OciLogMiner, the stand-in client
// library loaded by oci::load, the simulator as a server process. Every statement the
// reader sends must be one the simulator knows (logminer_sql.h), every value crosses as text
// through array fetches, faults arrive as ORA errors.
TEST(OracleReader, ThroughTheOciClientAgainstTheSimulatorProcess) {
    for (uint64_t seed = 200; seed <= 203; ++seed) {
        test::ServerWorld world(seed, 1 + static_cast<int>(seed % 2));
        run_seed(world, seed, seed % 2 == 1, 600);
        if (HasFatalFailure()) {
            return;
        }
    }
}

}  // namespace
}  // namespace rep::oracle
