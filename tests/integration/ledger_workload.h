#pragma once

// The ledger workload the interruption and fault tests share. Every source transaction
// appends the next sequence number to `ledger` and as many `audit` rows as its note says,
// besides random changes to other tables; a sampler proves, while replication runs, that
// every transaction is visible whole or not at all and (with --parallelism 1) that the
// ledger is an unbroken prefix; a trigger on the target counts how often each ledger row is
// written, so a transaction applied twice shows.

#include "harness.h"
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace harness {

using namespace std::chrono_literals;

inline const char* kWorkloadDdl =
    "CREATE TABLE ledger(seq bigint PRIMARY KEY, note text);"
    "CREATE TABLE audit(seq bigint, i int, PRIMARY KEY (seq, i));"
    "CREATE TABLE accounts(id int PRIMARY KEY, balance bigint, owner text);"
    "CREATE TABLE events(id bigint PRIMARY KEY, account int, body text);"
    "CREATE TABLE tags(account int, tag text, PRIMARY KEY (account, tag));";

// Userscript lines (API v2, imported as `api`) with apply-side handlers for the ledger
// workload's tables, for the kill tests that run a script: onWrite writes audit's rows itself
// (under a savepoint of its own), and row handlers pass accounts' rows, in the apply workers'
// engines.
inline const char* kLedgerApplySideHandlers = R"(
api.configureTargetTables(["audit"], {
  onWrite: async (ops: any[]) => {
    await api.getTX().exec("SAVEPOINT w");
    await api.write(ops);
    await api.getTX().exec("RELEASE SAVEPOINT w");
  },
});
api.configureTargetTables(["accounts"], { onRowUpsert: (row: any) => row, onRowDelete: (k: string[]) => k });
)";

// Runs random multi-table transactions on the source, each appending to the ledger.
class Workload {
public:
    Workload(Databases& db, int seed) : db_(db), rng_(seed) {}
    ~Workload() { stop(); }

    void start() {
        thread_ = std::thread([this] { loop(); });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    long long transactions() const { return seq_; }
    std::string error() const { return error_; }

private:
    void loop() {
        std::unique_ptr<Sql> src;
        int failures = 0;
        while (!stop_) {
            {
                long long next = seq_ + 1;
                std::string seq = std::to_string(next);
                std::string audits = std::to_string(1 + rng_() % 3);
                // The test servers run with synchronous_commit off; a source stopped with
                // -m immediate would then forget commits it had acknowledged, leaving a gap in
                // its own ledger. This workload's commits are durable when acknowledged, as an
                // application's are on a production server.
                std::string sql =
                    "BEGIN; SET LOCAL synchronous_commit = on; "
                    "INSERT INTO ledger VALUES (" +
                    seq + ", '" + audits + "'); INSERT INTO audit SELECT " + seq +
                    ", g FROM generate_series(1, " + audits + ") g;";
                int n = 1 + static_cast<int>(rng_() % 8);
                for (int i = 0; i < n; ++i) {
                    int acct = static_cast<int>(rng_() % 200);
                    switch (rng_() % 6) {
                        case 0:
                        case 1:
                            sql += "INSERT INTO accounts VALUES (" + std::to_string(acct) +
                                   ", 0, 'o') ON CONFLICT (id) DO UPDATE SET balance = "
                                   "accounts.balance + 1;";
                            break;
                        case 2:
                            sql += "INSERT INTO events VALUES (" + std::to_string(next * 10 + i) +
                                   ", " + std::to_string(acct) + ", repeat('e', " +
                                   std::to_string(rng_() % 300) + "));";
                            break;
                        case 3:
                            sql +=
                                "DELETE FROM events WHERE account = " + std::to_string(acct) + ";";
                            break;
                        case 4:
                            sql += "INSERT INTO tags VALUES (" + std::to_string(acct) + ", 't" +
                                   std::to_string(rng_() % 5) + "') ON CONFLICT DO NOTHING;";
                            break;
                        case 5:
                            sql +=
                                "UPDATE accounts SET id = id + 1000, owner = 'moved' WHERE id = " +
                                std::to_string(acct) +
                                " AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = " +
                                std::to_string(acct + 1000) + ");";
                            break;
                    }
                }
                sql += "COMMIT;";
                try {
                    if (!src) {
                        src = std::make_unique<Sql>(harness::source_port(), db_.name);
                    }
                    src->exec(sql);
                    seq_ = next;
                    failures = 0;
                } catch (const std::exception& e) {
                    // The source went away (a fault test stops it): reconnect, and learn
                    // whether the transaction committed before it did.
                    src.reset();
                    if (++failures > 100 || !reconnect(src)) {
                        error_ = e.what();
                        return;
                    }
                    if (src->count("ledger WHERE seq = " + seq) == 1) {
                        seq_ = next;
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(rng_() % 3));
            }
        }
    }

    bool reconnect(std::unique_ptr<Sql>& src) {
        return wait_for(
            [&] {
                try {
                    src = std::make_unique<Sql>(harness::source_port(), db_.name);
                    return true;
                } catch (const std::exception&) {
                    return false;
                }
            },
            90s);
    }

    Databases& db_;
    std::mt19937 rng_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<long long> seq_{0};
    std::string error_;
};

// Waits until the target has applied `rows` more ledger rows than it has now.
inline ::testing::AssertionResult applies(Databases& db, long long rows) {
    long long from = db.target->count("ledger");
    if (wait_for([&] { return db.target->count("ledger") >= from + rows; }, 60s)) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "the target stays at " << from << " ledger rows";
}

enum class Check { kAtomic, kAtomicAndPrefix };

// Checks, while replication runs, that every source transaction is visible whole or not at
// all, that nothing visible disappears again, and (kAtomicAndPrefix) that the ledger is
// always an unbroken prefix.
class LedgerSampler {
public:
    LedgerSampler(Databases& db, Check check) : db_(db), check_(check) {
        thread_ = std::thread([this] { loop(); });
    }
    ~LedgerSampler() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    long long samples() const { return samples_; }
    // Waits until more than `n` samples were taken: a short or loaded run, or one where the
    // target was down for most of it, must still have been looked at often enough.
    ::testing::AssertionResult sampled_more_than(long long n) {
        if (harness::wait_for([&] { return samples_ > n; }, std::chrono::seconds(120))) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << "only " << samples_ << " samples of the target";
    }
    long long violations() const { return violations_; }
    std::string first_violation() const { return first_; }

private:
    void loop() {
        std::unique_ptr<Sql> dst;
        long long last_count = 0;
        while (!stop_) {
            std::vector<std::vector<std::optional<std::string>>> row;
            try {
                if (!dst) {
                    dst = std::make_unique<Sql>(harness::target_port(), db_.name);
                }
                // One statement: one snapshot of the target.
                row = dst->rows(
                    "SELECT count(*), coalesce(min(seq), 1), coalesce(max(seq), 0), "
                    "(SELECT count(*) FROM ledger l WHERE l.note::int <> "
                    "  (SELECT count(*) FROM audit a WHERE a.seq = l.seq)) + "
                    "(SELECT count(*) FROM audit a WHERE NOT EXISTS "
                    "  (SELECT 1 FROM ledger l WHERE l.seq = a.seq)) FROM ledger");
            } catch (const std::exception&) {
                dst.reset();  // the target is down (a fault test): sample again once it is back
                std::this_thread::sleep_for(100ms);
                continue;
            }
            long long n = std::stoll(*row[0][0]);
            long long lo = std::stoll(*row[0][1]);
            long long hi = std::stoll(*row[0][2]);
            long long torn = std::stoll(*row[0][3]);
            ++samples_;
            std::string problem;
            if (torn != 0) {
                problem = std::to_string(torn) + " transactions partly visible";
            } else if (n < last_count) {
                problem = "ledger shrank from " + std::to_string(last_count);
            } else if (check_ == Check::kAtomicAndPrefix && (lo != 1 || hi != n)) {
                problem = "not a prefix";
            }
            last_count = std::max(last_count, n);
            if (!problem.empty() && violations_++ == 0) {
                first_ = problem + ": count=" + std::to_string(n) + " min=" + std::to_string(lo) +
                         " max=" + std::to_string(hi);
            }
            std::this_thread::sleep_for(20ms);
        }
    }

    Databases& db_;
    Check check_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<long long> samples_{0};
    std::atomic<long long> violations_{0};
    std::string first_;
};

inline const std::vector<std::string> kTables = {"ledger", "audit", "accounts", "events", "tags"};

// Counts, on the target only, how often each ledger row is written. Every source transaction
// writes its ledger row once, so any count above 1 is a transaction applied twice (after a
// restart, a group re-applied that had already committed) even though re-applying row
// images leaves the same final data.
inline void count_ledger_writes(Sql& target) {
    target.exec(
        "CREATE TABLE ledger_writes(seq bigint PRIMARY KEY, n int NOT NULL);"
        "CREATE FUNCTION count_ledger_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "  INSERT INTO ledger_writes VALUES (NEW.seq, 1) "
        "  ON CONFLICT (seq) DO UPDATE SET n = ledger_writes.n + 1; RETURN NEW; END $$;"
        "CREATE TRIGGER count_ledger_write AFTER INSERT OR UPDATE ON ledger "
        "  FOR EACH ROW EXECUTE FUNCTION count_ledger_write();");
}

inline ::testing::AssertionResult applied_once(Sql& target) {
    auto row = target.rows(
        "SELECT count(*) FILTER (WHERE n > 1), count(*), max(n), "
        "(SELECT min(seq) FROM ledger_writes WHERE n > 1) FROM ledger_writes");
    if (*row[0][0] != "0") {
        return ::testing::AssertionFailure()
               << *row[0][0] << " of " << *row[0][1] << " source transactions were applied more "
               << "than once (up to " << *row[0][2] << " times; first: ledger seq "
               << row[0][3].value_or("?") << ")";
    }
    return ::testing::AssertionSuccess();
}

inline void count_ledger_writes(Databases& db) {
    count_ledger_writes(*db.target);
}
inline ::testing::AssertionResult applied_once(Databases& db) {
    return applied_once(*db.target);
}

}  // namespace harness
