#pragma once

#include "source/oracle/logminer.h"
#include "source/oracle/oci_session.h"

namespace rep::oracle {

// The LogMiner seam over an OCI session in CDB$ROOT (or a non-CDB database): the SQL of
// logminer_sql.h, binds as text, every value fetched as text and SCNs parsed from decimal
// digits (never through a floating NUMBER). The session's NLS settings are pinned first.
class OciLogMiner final : public LogMiner {
public:
    explicit OciLogMiner(OciSession& session);

    uint64_t current_scn() override;
    std::vector<RedoThread> threads() override;
    std::vector<LogFile> online_logs(uint64_t lo, uint64_t hi) override;
    std::vector<LogFile> archived_logs(uint64_t lo, uint64_t hi) override;
    void add_logfile(const std::string& name, bool first) override;
    std::vector<LogFile> session_logs() override;
    void start(uint64_t lo, uint64_t hi) override;
    void end() override;
    std::unique_ptr<ContentsCursor> contents(const ContentsQuery& query) override;

private:
    std::vector<LogFile> logs(const std::string& sql, uint64_t lo, uint64_t hi, bool archived);

    OciSession& session_;
};

// Reads a decimal SCN (or another unsigned number) Oracle sent as text. Throws rep::Error
// (fatal) naming `what` when it is not one.
uint64_t parse_number(const Cell& text, const char* what);

}  // namespace rep::oracle
