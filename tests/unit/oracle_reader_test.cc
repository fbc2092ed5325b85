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

#include "sim_database.h"
#include "sim_logminer.h"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

namespace rep::oracle {
namespace {

using sim::Value;

// The target: rows by table and key, changed as the applier would change them (an insert is
// a full-row upsert, an update sets the listed columns of the row its old key names, moving
// it when the key changes, a delete removes the key).
class Target {
public:
    explicit Target(const sim::Database& db) : db_(db) {}

    void load(const std::string& state_text, sim::Database& db) {
        rows_.clear();
        for (const char* name : {"T1", "T2"}) {
            for (const auto& [key, row] : db.table("APP", name).rows) {
                rows_[name][key] = row.values;
            }
        }
        ASSERT_EQ(text(), state_text);
    }

    void apply(const TxnEvent& event, sim::Database& db) {
        RedoStatement s = parse_sql_redo(event.sql_redo);
        const std::vector<std::string>& columns = db.table(s.schema, s.table).columns;
        auto index = [&](const std::string& name) {
            return static_cast<size_t>(std::find(columns.begin(), columns.end(), name) -
                                       columns.begin());
        };
        auto value = [](const RedoValue& v) -> Value {
            return v.kind == RedoValue::Kind::kNull ? Value{} : Value{v.text};
        };
        auto& table = rows_[s.table];
        if (s.op == RedoStatement::Op::kInsert) {
            std::vector<Value> row(columns.size());
            for (const RedoColumn& c : s.values) {
                row.at(index(c.name)) = value(c.value);
            }
            table[*row[0]] = row;
            return;
        }
        std::string key;
        for (const RedoColumn& c : s.where) {
            if (index(c.name) == 0) {
                key = c.value.text;
            }
        }
        auto it = table.find(key);
        ASSERT_NE(it, table.end()) << "no row " << key << " for " << event.sql_redo;
        if (s.op == RedoStatement::Op::kDelete) {
            table.erase(it);
            return;
        }
        std::vector<Value> row = it->second;
        for (const RedoColumn& c : s.values) {
            row.at(index(c.name)) = value(c.value);
        }
        table.erase(it);
        table[*row[0]] = row;
    }

    std::string text() const {
        std::string out;
        for (const auto& [name, rows] : rows_) {
            for (const auto& [key, values] : rows) {
                out += name;
                for (const Value& v : values) {
                    out += v ? "|" + *v : "|NULL";
                }
                out += "\n";
            }
        }
        return out;
    }

private:
    const sim::Database& db_;
    std::map<std::string, std::map<std::string, std::vector<Value>>> rows_;
};

// A random workload step on the simulated database.
class Workload {
public:
    Workload(sim::Database& db, std::mt19937_64& rng, int threads)
        : db_(db), rng_(rng), threads_(threads) {}

    void step() {
        unsigned pick = rng_() % 100;
        std::vector<std::string> open = db_.open_transactions();
        if (open.size() < 4 && (open.empty() || pick < 15)) {
            db_.begin(1 + static_cast<int>(rng_() % threads_));
            return;
        }
        if (pick < 18) {
            db_.log_switch(1 + static_cast<int>(rng_() % threads_));
            return;
        }
        if (pick < 20) {
            db_.archive();
            return;
        }
        if (pick < 22) {
            db_.tick();
            return;
        }
        std::string xid = open[rng_() % open.size()];
        if (pick < 30) {
            db_.commit(xid);
        } else if (pick < 32) {
            db_.rollback(xid);
        } else if (pick < 36) {
            size_t mark = db_.savepoint(xid);
            dml(xid);
            dml(xid);
            if (rng_() % 2 == 0) {
                db_.rollback_to(xid, mark);
            }
        } else if (pick < 39) {
            db_.failed_insert(xid, "APP", "T2", {{key(), text()}, {key(), text()}});
        } else {
            dml(xid);
        }
    }

    // Ends every open transaction, then commits on each thread so that all of it is flushed
    // and below every thread's LAST_REDO_SCN.
    void finish() {
        for (const std::string& xid : db_.open_transactions()) {
            db_.commit(xid);
        }
        for (int t = 1; t <= threads_; ++t) {
            std::string xid = db_.begin(t);
            db_.insert(xid, "OTHER", "X", {key(), text()});
            db_.commit(xid);
        }
    }

private:
    std::string key() { return std::to_string(++keys_); }

    Value text() {
        switch (rng_() % 6) {
            case 0:
                return std::nullopt;
            case 1:
                return "it's \"quoted\" and ROWID = 'x' ; ||";
            case 2:
                return "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 " + std::to_string(rng_() % 1000);
            case 3:
                return std::string(50 + rng_() % 100, 'x') + "''" + std::string(30, 'y');
            case 4:
                return "-." + std::to_string(rng_() % 100);
            default:
                return std::to_string(rng_() % 100000);
        }
    }

    void dml(const std::string& xid) {
        static const char* kTables[] = {"T1", "T2", "T1", "X"};
        std::string table = kTables[rng_() % 4];
        std::string owner = table == "X" ? "OTHER" : "APP";
        size_t width = db_.table(owner, table).columns.size();
        // A key this transaction may touch: its own, or a committed one nobody holds.
        std::vector<std::string> keys;
        for (const auto& [k, r] : db_.table(owner, table).rows) {
            if (!db_.locked(owner, table, k)) {
                keys.push_back(k);
            }
        }
        unsigned op = rng_() % 10;
        if (keys.empty() || op < 4) {
            std::vector<Value> values{key()};
            for (size_t i = 1; i < width; ++i) {
                values.push_back(text());
            }
            db_.insert(xid, owner, table, values);
            return;
        }
        std::string k = keys[rng_() % keys.size()];
        if (op < 6) {
            db_.remove(xid, owner, table, k);
            return;
        }
        std::map<size_t, Value> changes;
        if (op == 9) {
            changes[0] = key();  // the primary key changes
        }
        changes[1 + rng_() % (width - 1)] = text();
        db_.update(xid, owner, table, k, changes);
    }

    sim::Database& db_;
    std::mt19937_64& rng_;
    int threads_;
    uint64_t keys_ = 0;
};

std::vector<CheckpointRow> rows_of(const std::map<std::string, CheckpointRow>& table) {
    std::vector<CheckpointRow> out;
    for (const auto& [k, v] : table) {
        out.push_back(v);
    }
    return out;
}

// One seeded run; `first_run_snapshot`: start from a snapshot taken mid-workload (--scn).
void run_seed(uint64_t seed, bool first_run_snapshot) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937_64 rng(seed);
    int threads = 1 + static_cast<int>(seed % 2);
    sim::Database db(seed, threads);
    db.create_table("APP", "T1", {"ID", "N", "S"});
    db.create_table("APP", "T2", {"ID", "V"});
    db.create_table("OTHER", "X", {"ID", "V"});
    sim::SimLogMiner miner(db, seed, 60);
    Workload workload(db, rng, threads);
    Target target(db);

    // The durable `_oracle_checkpoint` rows. A first run starts at --scn S with the target
    // holding the source AS OF SCN S, mining from the oldest open transaction's first DML.
    std::map<std::string, CheckpointRow> durable;
    std::optional<uint64_t> snapshot;
    uint64_t start = db.current_scn();
    if (first_run_snapshot) {
        for (int i = 0; i < 150; ++i) {
            workload.step();
        }
        db.tick();
        snapshot = db.current_scn();
        start = *snapshot;
        for (const auto& [xid, first] : db.open_first_scns()) {
            start = std::min(start, first);
        }
        target.load(db.state("APP"), db);
    }
    durable[kFrontierXid] = {kFrontierXid, start, std::nullopt, false};

    const std::map<std::string, std::string>& states = db.states("APP");
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
        // The first-run rule holds until a frontier past S is durable (it is kept in the
        // memo); after that, everything below R committed long ago.
        if (snapshot && resume.restart_scn <= *snapshot) {
            options.snapshot_scn = snapshot;
        }
        WindowReader reader(miner, options, resume);
        std::vector<CheckpointRow> fifo;  // checkpoint operations not durable yet
        bool crashed = false;
        while (!crashed) {
            if (!finished && steps > 1500) {
                workload.finish();
                finished = true;
            }
            if (!finished && rng() % 3 != 0) {
                workload.step();
                ++steps;
                continue;
            }
            if (rng() % 8 == 0) {
                miner.faults().fail_after_rows = 1 + rng() % 20;
            } else if (rng() % 30 == 0) {
                miner.faults().missing_scn = true;
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
            uint64_t cap = db.current_scn();
            for (const RedoThread& t : db.threads()) {
                cap = std::min(cap, t.last_redo_scn - 1);
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
                        for (const TxnEvent& e : a.events) {
                            target.apply(e, db);
                        }
                        ++applied;
                        ASSERT_EQ(target.text(), states.at(a.xid))
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
                db.purge(resume_from(rows_of(durable))->restart_scn);
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
    EXPECT_EQ(target.text(), db.state("APP"));
    for (const auto& [xid, row] : durable) {
        EXPECT_TRUE(row.committed || xid == kFrontierXid) << xid << " still open";
    }
    EXPECT_GT(applied, 20U);
    ::testing::Test::RecordProperty("crashes", static_cast<int>(crashes));
}

TEST(OracleReader, RandomWorkloadsWithCrashesConverge) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        run_seed(seed, false);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(OracleReader, FirstRunFromASnapshotScn) {
    for (uint64_t seed = 100; seed <= 130; ++seed) {
        run_seed(seed, true);
        if (HasFatalFailure()) {
            return;
        }
    }
}

}  // namespace
}  // namespace rep::oracle
