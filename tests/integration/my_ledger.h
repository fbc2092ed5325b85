#pragma once

// MariaDB-to-PostgreSQL test databases, and the ledger workload of the mylogical
// interruption and fault tests: every source transaction inserts the next ledger sequence
// number and as many `audit` rows as its note says, besides random changes to other tables. A
// sampler checks at every moment that the target's ledger is an unbroken prefix (commits keep
// source order), that no transaction is partly visible and that nothing visible disappears
// again; a trigger on the target (count_ledger_writes) shows a transaction applied twice,
// which re-applied row images would otherwise hide.

#include "harness.h"
#include "ledger_workload.h"
#include "mysql_harness.h"
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <signal.h>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace harness {

using namespace std::chrono_literals;

// A MariaDB database and a PostgreSQL database of the same name, fresh for one test, with
// the binlog position right after the source DDL as the starting GTID.
struct MyDatabases {
    MyDatabases(const std::string& n, const std::string& mysql_ddl, const std::string& pg_ddl)
        : name(n) {
        MySql admin;
        admin.exec("DROP DATABASE IF EXISTS " + name + "; CREATE DATABASE " + name);
        // The replicator connects as a user with a password, to prove it is never printed.
        admin.exec(
            "CREATE USER IF NOT EXISTS repl@'%' IDENTIFIED BY 'my-secret-pw';"
            "GRANT ALL PRIVILEGES ON *.* TO repl@'%'");
        Sql pg(harness::target_port(), "postgres");
        pg.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        pg.exec("CREATE DATABASE " + name);
        source = std::make_unique<MySql>(name);
        target = std::make_unique<Sql>(harness::target_port(), name);
        if (!mysql_ddl.empty()) {
            source->exec(mysql_ddl);
        }
        if (!pg_ddl.empty()) {
            target->exec(pg_ddl);
        }
        start_gtid = source->value("SELECT @@gtid_binlog_pos").value_or("");
    }

    std::vector<std::string> args(const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> a = {"mylogical",
                                      "--sourceConn",
                                      "mysql://repl:my-secret-pw@127.0.0.1:" +
                                          std::to_string(harness::mariadb_port()) + "/" + name,
                                      "--targetConn",
                                      "postgresql://postgres:hunter2-secret@127.0.0.1:" +
                                          std::to_string(harness::target_port()) + "/" + name,
                                      "--targetSchema",
                                      name + ".public",
                                      "--defaultGTIDSet",
                                      start_gtid,
                                      "--stagingCreateSchema",
                                      "--flushPeriod",
                                      "100ms",
                                      "--dataDir",
                                      harness::servers_base() + "/data-" + name};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }

    // Compares `columns` of `table` in key order; the expressions must render alike on both.
    bool match(const std::string& table, const std::string& columns, std::string* diff) {
        auto dump = [&](auto& db) {
            std::string out;
            for (const auto& row :
                 db.rows("SELECT " + columns + " FROM " + table + " ORDER BY " + columns)) {
                for (const auto& v : row) {
                    out += (v ? "'" + *v + "'" : "NULL") + "|";
                }
                out += "\n";
            }
            return out;
        };
        std::string a = dump(*source);
        std::string b = dump(*target);
        if (a != b && diff != nullptr) {
            *diff =
                "table " + table + " differs\n" + only_in("source", a, b) + only_in("target", b, a);
        }
        return a == b;
    }

    // The rows of dump `a` that dump `b` lacks: how many, and the first few (keys only).
    static std::string only_in(const std::string& side, const std::string& a,
                               const std::string& b) {
        auto lines = [](const std::string& d) {
            std::set<std::string> out;
            size_t from = 0;
            for (size_t nl = d.find('\n'); nl != std::string::npos; nl = d.find('\n', from)) {
                out.insert(d.substr(from, nl - from));
                from = nl + 1;
            }
            return out;
        };
        std::set<std::string> other = lines(b);
        std::string first;
        size_t n = 0;
        for (const std::string& row : lines(a)) {
            if (other.count(row) == 0 && n++ < 20) {
                first += " " + row.substr(0, row.find('|'));
            }
        }
        return std::to_string(n) + " row(s) only in the " + side + ":" + first + "\n";
    }

    ::testing::AssertionResult converges(
        const std::vector<std::pair<std::string, std::string>>& tables,
        std::chrono::milliseconds timeout = 60s) {
        std::string diff;
        bool ok = harness::wait_for(
            [&] {
                for (const auto& [t, cols] : tables) {
                    if (!match(t, cols, &diff)) {
                        return false;
                    }
                }
                return true;
            },
            timeout);
        return ok ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << diff;
    }

    std::string name;
    std::string start_gtid;
    std::unique_ptr<MySql> source;
    std::unique_ptr<Sql> target;
};

// The workload and the sampler on one MyDatabases, with the final checks.
class MyLedgerRun {
public:
    // `source_ddl` and `target_ddl` run after the tables are made (on the source before the
    // starting GTID is read); `also_compare` are more (table, columns) for finish() to match.
    explicit MyLedgerRun(const std::string& name, const std::string& source_ddl = "",
                         const std::string& target_ddl = "",
                         std::vector<std::pair<std::string, std::string>> also_compare = {})
        : db_(name,
              "CREATE TABLE ledger(seq BIGINT PRIMARY KEY, note VARCHAR(10));"
              "CREATE TABLE audit(seq BIGINT, i INT, PRIMARY KEY (seq, i));"
              "CREATE TABLE accounts(id INT PRIMARY KEY, balance BIGINT, owner VARCHAR(20));"
              "CREATE TABLE events(id BIGINT PRIMARY KEY, account INT, body VARCHAR(300));" +
                  source_ddl,
              "CREATE TABLE ledger(seq bigint PRIMARY KEY, note varchar(10));"
              "CREATE TABLE audit(seq bigint, i int, PRIMARY KEY (seq, i));"
              "CREATE TABLE accounts(id int PRIMARY KEY, balance bigint, owner varchar(20));"
              "CREATE TABLE events(id bigint PRIMARY KEY, account int, body varchar(300));" +
                  target_ddl),
          also_compare_(std::move(also_compare)) {
        count_ledger_writes(*db_.target);
    }
    ~MyLedgerRun() { stop(); }

    MyDatabases& db() { return db_; }
    void start() {
        work_ = std::thread([this] { work(); });
        sampler_ = std::thread([this] { sample(); });
    }
    // Waits until the target has `rows` more ledger rows than now.
    ::testing::AssertionResult applies(long long rows) {
        long long from = db_.target->count("ledger");
        if (wait_for([&] { return db_.target->count("ledger") >= from + rows; }, 60s)) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << "the target stays at " << from << " ledger rows";
    }
    // Stops the workload and checks: the tables match, the ledger was always a whole prefix,
    // every transaction was applied once, and `r` stops cleanly.
    void finish(Replicator& r) {
        stop_work_ = true;
        if (work_.joinable()) {
            work_.join();
        }
        EXPECT_EQ(work_error_, "");
        std::vector<std::pair<std::string, std::string>> tables = {
            {"ledger", "seq, note"},
            {"audit", "seq, i"},
            {"accounts", "id, balance, owner"},
            {"events", "id, account, body"}};
        tables.insert(tables.end(), also_compare_.begin(), also_compare_.end());
        EXPECT_TRUE(db_.converges(tables, 120s)) << r.log();
        stop();
        EXPECT_GT(seq_.load(), 100);
        EXPECT_GT(samples_.load(), 50);
        EXPECT_EQ(violations_.load(), 0) << first_;
        EXPECT_TRUE(applied_once(*db_.target));
        EXPECT_TRUE(r.running()) << r.log();
        r.signal(SIGTERM);
        EXPECT_EQ(r.wait(30s), 0) << r.log();
    }

private:
    void stop() {
        stop_work_ = true;
        stop_sampler_ = true;
        if (work_.joinable()) {
            work_.join();
        }
        if (sampler_.joinable()) {
            sampler_.join();
        }
    }

    void work() {
        std::unique_ptr<MySql> src;
        std::mt19937 rng(11);
        int failures = 0;
        while (!stop_work_) {
            {
                long long s = seq_ + 1;
                int audits = static_cast<int>(rng() % 4);
                std::string sql = "START TRANSACTION; INSERT INTO ledger VALUES (" +
                                  std::to_string(s) + ", '" + std::to_string(audits) + "');";
                for (int i = 0; i < audits; ++i) {
                    sql += "INSERT INTO audit VALUES (" + std::to_string(s) + ", " +
                           std::to_string(i) + ");";
                }
                for (int i = 0; i < 1 + static_cast<int>(rng() % 6); ++i) {
                    int acct = static_cast<int>(rng() % 100);
                    switch (rng() % 4) {
                        case 0:
                        case 1:
                            sql += "INSERT INTO accounts VALUES (" + std::to_string(acct) +
                                   ", 0, 'o') ON DUPLICATE KEY UPDATE balance = balance + 1;";
                            break;
                        case 2:
                            sql += "INSERT INTO events VALUES (" + std::to_string(s * 10 + i) +
                                   ", " + std::to_string(acct) + ", REPEAT('e', " +
                                   std::to_string(rng() % 300) + "));";
                            break;
                        case 3:
                            sql +=
                                "DELETE FROM events WHERE account = " + std::to_string(acct) + ";";
                            break;
                    }
                }
                sql += "COMMIT";
                try {
                    if (!src) {
                        src = std::make_unique<MySql>(db_.name);
                    }
                    src->exec(sql);
                    seq_ = s;
                    failures = 0;
                } catch (const std::exception& e) {
                    // The server went away (a fault test restarts it): reconnect, and learn
                    // whether the transaction committed before it did.
                    src.reset();
                    bool back = wait_for(
                        [&] {
                            try {
                                src = std::make_unique<MySql>(db_.name);
                                return true;
                            } catch (const std::exception&) {
                                return false;
                            }
                        },
                        90s);
                    if (++failures > 100 || !back) {
                        work_error_ = e.what();
                        return;
                    }
                    if (src->value("SELECT count(*) FROM ledger WHERE seq = " +
                                   std::to_string(s)) == "1") {
                        seq_ = s;
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 3));
            }
        }
    }

    void sample() {
        std::unique_ptr<Sql> dst;
        long long last_count = 0;
        while (!stop_sampler_) {
            std::vector<std::vector<std::optional<std::string>>> r;
            try {
                if (!dst) {
                    dst = std::make_unique<Sql>(target_port(), db_.name);
                }
                // One statement: one snapshot of the target.
                r = dst->rows(
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
            long long n = std::stoll(*r[0][0]);
            long long torn = std::stoll(*r[0][3]);
            std::string problem;
            if (torn != 0) {
                problem = std::to_string(torn) + " transaction(s) partly visible";
            } else if (n < last_count) {
                problem = "the ledger shrank from " + std::to_string(last_count);
            } else if (std::stoll(*r[0][1]) != 1 || std::stoll(*r[0][2]) != n) {
                problem = "not a prefix";
            }
            last_count = std::max(last_count, n);
            if (!problem.empty() && violations_++ == 0) {
                first_ = problem + ": " + *r[0][0] + " rows, min " + *r[0][1] + ", max " + *r[0][2];
            }
            ++samples_;
            std::this_thread::sleep_for(20ms);
        }
    }

    MyDatabases db_;
    std::vector<std::pair<std::string, std::string>> also_compare_;
    std::thread work_;
    std::thread sampler_;
    std::atomic<bool> stop_work_{false};
    std::atomic<bool> stop_sampler_{false};
    std::atomic<long long> seq_{0};
    std::atomic<long long> samples_{0};
    std::atomic<long long> violations_{0};
    std::string work_error_;
    std::string first_;
};

}  // namespace harness
