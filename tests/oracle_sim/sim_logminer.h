#pragma once

// A LogMiner session over the simulated database (reference §6.2, "session semantics"):
// files are added by name and resolved to a (thread, sequence) when added; START_LOGMNR
// fixes [lo, hi]; the contents query shows the flushed records of the added files inside
// [lo, hi], merged over threads in SCN order, rendered as LogMiner renders them:
//  - SQL_REDO longer than `csf_limit` bytes split into CSF rows at arbitrary byte offsets
//    (inside a '' pair or a multi-byte character as well), sharing RS_ID and SSN;
//  - now and then a row with no SQL_REDO before a DML row (the non-final rows of a record
//    set);
//  - undo rows and rollbacks of a transaction that began before STARTSCN with XIDSQN
//    unresolved (FFFFFFFF).
// Faults can be injected: a fetch failing after some rows (ORA-01368, the online log was
// overwritten), a MISSING_SCN row.

#include "source/oracle/logminer.h"

#include "sim_database.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace rep::oracle::sim {

// The name of the one PDB the simulated database has (SRC_CON_NAME of every row).
inline constexpr const char* kPdb = "ORCLPDB1";

struct Faults {
    // The next contents query throws a retryable error after this many rows (0: none).
    size_t fail_after_rows = 0;
    // The next contents query shows a MISSING_SCN row first.
    bool missing_scn = false;
};

class SimLogMiner final : public LogMiner {
public:
    SimLogMiner(Database& db, uint64_t seed, size_t csf_limit = 4000)
        : db_(db), rng_(seed), csf_limit_(csf_limit) {}

    Faults& faults() { return faults_; }
    // How many sessions were built (NEW file lists) and contents queries opened.
    size_t sessions() const { return sessions_; }
    size_t queries() const { return queries_; }

    uint64_t current_scn() override { return db_.current_scn(); }
    std::vector<RedoThread> threads() override { return db_.threads(); }
    std::vector<LogFile> online_logs(uint64_t lo, uint64_t hi) override;
    std::vector<LogFile> archived_logs(uint64_t lo, uint64_t hi) override;
    void add_logfile(const std::string& name, bool first) override;
    std::vector<LogFile> session_logs() override;
    void start(uint64_t lo, uint64_t hi) override;
    void end() override;
    std::unique_ptr<ContentsCursor> contents(const ContentsQuery& query) override;

private:
    std::vector<ContentsRow> render(const ContentsQuery& query);

    Database& db_;
    std::mt19937_64 rng_;
    size_t csf_limit_;
    Faults faults_;
    std::vector<std::pair<int, uint64_t>> files_;  // (thread, sequence) added
    std::vector<std::string> names_;
    bool started_ = false;
    uint64_t lo_ = 0;
    uint64_t hi_ = 0;
    size_t sessions_ = 0;
    size_t queries_ = 0;
};

}  // namespace rep::oracle::sim
