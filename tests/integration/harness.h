#pragma once

// Test harness for integration tests against the real PostgreSQL servers that
// scripts/pg_servers.sh starts (ctest runs it as a fixture; see CMakeLists.txt).

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace harness {

int source_port();
int target_port();
std::string servers_base();
// Writes `text` to <servers_base>/<dir>/<name> (a userscript, say) and returns the path.
std::string write_script(const std::string& dir, const std::string& name, const std::string& text);
// How many kill -9 an interruption test makes: `default_kills`, or REP_SOAK_KILLS when set
// (scripts/soak.sh runs the kill tests with many more).
int kill_count(int default_kills);

// Runs scripts/pg_servers.sh ACTION BASE [PORT] (stop-target, start-target, stop-source,
// start-source; stop-* take "fast" or "immediate" as `mode`), or scripts/mariadb_server.sh for
// actions starting with "mariadb-" (mariadb-stop MODE, mariadb-start PORT).
::testing::AssertionResult pg_servers(const std::string& action, int port = 0,
                                      const std::string& mode = "");

// A plain libpq connection; every failure is a test failure (throws std::runtime_error).
class Sql {
public:
    Sql(int port, const std::string& db);
    ~Sql();
    Sql(const Sql&) = delete;
    Sql& operator=(const Sql&) = delete;

    void exec(const std::string& sql);
    // Like exec, but returns the error message instead of throwing ("" on success).
    std::string try_exec(const std::string& sql);
    std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql);
    std::optional<std::string> value(const std::string& sql);
    long long count(const std::string& table);

private:
    PGconn* conn_;
};

// A source and a target database of the same name, created fresh for one test, with
// `ddl` run on both, a publication for all tables and a pgoutput slot on the source.
struct Databases {
    explicit Databases(const std::string& name, const std::string& ddl, bool create_slot = true);
    ~Databases();

    std::string name;
    std::string slot;
    std::string publication;
    std::string source_url;
    std::string target_url;  // includes a password, to check that it is never printed

    std::unique_ptr<Sql> source;
    std::unique_ptr<Sql> target;

    // Whole-table dump in primary key order, text format, for source/target comparison.
    static std::string dump(Sql& db, const std::string& table, const std::string& order_by);
    bool tables_match(const std::vector<std::string>& tables, std::string* diff = nullptr);

    // The usual command line: replicator pglogical --sourceConn ... plus `extra`.
    std::vector<std::string> args(const std::vector<std::string>& extra = {}) const;
};

// A running `replicator` process with its stdout+stderr captured to a file.
class Replicator {
public:
    explicit Replicator(const std::vector<std::string>& args, const std::string& log_path);
    ~Replicator();

    void signal(int sig);
    // Waits for exit; returns the exit status (128+signal if killed) or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();
    // Peak resident set size in KiB (VmHWM), while the process is alive.
    long peak_rss_kib() const;
    std::string log() const;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::string log_path_;
    std::optional<int> status_;
};

// `kills` times: starts the replicator with `args`, lets it run 0.4-1.3 s (random, from
// `seed`), and kills it with SIGKILL. A kill test's interruptions; the caller checks after.
void kill_nine_repeatedly(const std::vector<std::string>& args, const std::string& log, int kills,
                          uint32_t seed);

// Runs `replicator` to completion and returns {exit status, output}.
std::pair<int, std::string> run_replicator(const std::vector<std::string>& args,
                                           std::chrono::milliseconds timeout);

// Waits until every table matches between source and target; reports the first
// difference on failure.
::testing::AssertionResult converges(Databases& db, const std::vector<std::string>& tables,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Polls `pred` every 50 ms until it holds or `timeout` passes.
bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

std::string log_path(const std::string& test_name);
// log_path(), with any log of an earlier run removed.
std::string fresh_log(const std::string& test_name);

// GET http://127.0.0.1:port/path; returns {status, body}, status 0 if nothing answered.
std::pair<int, std::string> http_get(int port, const std::string& path);

// Cuts the replicator's target connections in database `db` (terminates their backends) at
// random moments, every 100-600 ms, from construction until destruction: the connection cuts
// of the ledger proofs, which the replicator must ride out beside its kill -9 restarts.
class TargetCutter {
public:
    explicit TargetCutter(const std::string& db, unsigned seed = 11);
    ~TargetCutter();
    // Times at least one connection was cut.
    int cuts() const { return cuts_.load(); }

private:
    std::atomic<bool> stop_{false};
    std::atomic<int> cuts_{0};
    std::thread thread_;
};

}  // namespace harness
