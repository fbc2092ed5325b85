#pragma once

#include "source/oracle/oci_session.h"
#include "source/oracle/oracle_url.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace rep::oracle {

// The REPLICATOR_SENTINEL heartbeat (reference §3.8): a MERGE of the current SCN into
// <schema>.REPLICATOR_SENTINEL and a COMMIT, on the PDB session (or the only database). It
// makes redo and a commit, so the redo threads' LAST_REDO_CHANGE# moves past an idle stretch
// and the window loop can mine the last commits before it: without it, transactions
// committed just before the source goes quiet wait for its next write. The table itself is
// never replicated. Beats every 10 seconds, and at most once a second while the reader has
// nothing safe to read. Without the table (MOLT's setup creates it) a warning says how to
// create it, at each start of reading, and no heartbeat is made; a failing beat is a warning,
// retried at the next.
class Sentinel {
public:
    Sentinel(const oci::Api& api, OracleUrl url, std::string schema, bool table_exists);

    // Beats if one is due; `idle`: the reader found nothing safe to read.
    void maybe_beat(uint64_t current_scn, bool idle);
    uint64_t beats() const { return beats_; }

private:
    const oci::Api& api_;
    OracleUrl url_;
    std::string schema_;
    bool enabled_;
    std::unique_ptr<OciSession> session_;
    std::chrono::steady_clock::time_point last_{};
    uint64_t beats_ = 0;
};

}  // namespace rep::oracle
