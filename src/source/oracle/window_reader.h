#pragma once

#include "source/oracle/checkpoint.h"
#include "source/oracle/log_selection.h"
#include "source/oracle/logminer.h"
#include "source/oracle/txn_buffer.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rep::oracle {

struct ReaderOptions {
    std::string schema;              // --sourceSchema, as Oracle stores it (SEG_OWNER)
    std::optional<std::string> pdb;  // the PDB's name (SRC_CON_NAME) with --sourcePDBConn
    std::set<std::string> tables;    // the tables to replicate (TABLE_NAME); empty: all
    int64_t window_size = 3250;      // --scnWindowSize; <= 0: no cap
    size_t fetch_rows = 500;         // rows per fetch of the contents cursor
    // First run: --scn S. Transactions committed below it are in the snapshot: only marked.
    std::optional<uint64_t> snapshot_scn;
    // Transactions the target already has (the memo's position): only marked. Called with
    // the commit SCN and XID of each commit.
    std::function<bool(uint64_t, const std::string&)> applied;
    // A window whose redo has a gap (MISSING_SCN) is read again in place, gap_retry_delay
    // apart, and the gap is fatal after max_window_attempts attempts.
    int max_window_attempts = 5;
    std::chrono::milliseconds gap_retry_delay{200};
    SpillOptions spill;  // where large open transactions go (none: memory only)
};

// One mined window [lo, hi] (reference §3.6): what happened in it, in row order, for the
// checkpointer (registrations, commits, rollbacks) and the applier (commits with events).
struct Window {
    uint64_t lo = 0;
    uint64_t hi = 0;
    std::vector<TxnAction> actions;
    size_t rows = 0;  // contents rows read
    // START_LOGMNR and the contents query, fetches included (the last attempt's).
    double query_seconds = 0;
};

// The window loop of one LogMiner session (reference §3.4-3.6), one window per next() call:
// the window's end capped below unflushed redo, the log files chosen and (re)added when the
// set changes, LogMiner started over [lo, hi], the cursor drained through the CSF join into
// the transaction buffer, and the window's commits and rollbacks returned only once the
// whole window was read. A window that fails is rolled back out of the buffer and the same
// [lo, hi] is mined again by the next call: nothing reaches the caller twice.
//
// Rows are checked as they come: a DML row on a replicated table that LogMiner could not
// translate (STATUS 2 with INFO, after DDL under the online catalog), an UNSUPPORTED (255) or
// LOB-locator operation on one, are fatal errors naming the table and SCN; MISSING_SCN means
// the redo has a gap, so the window is read again at once (fatal after max_window_attempts).
// Other retryable errors (a lost connection, a log overwritten while read) leave the window
// rolled back for the caller to retry.
class WindowReader {
public:
    // Resumes at `resume.restart_scn`, skipping `resume.skip`.
    WindowReader(LogMiner& miner, ReaderOptions options, const Resume& resume);

    // Mines the next window; nullopt when nothing is safe to mine yet (every SCN up to the
    // redo flushed on all open threads has been read: an idle database needs the sentinel)
    // or the log files are not complete yet (waiting() says why). Throws rep::Error; after a
    // retryable one, calling again mines the same window.
    std::optional<Window> next();

    uint64_t lo() const { return lo_; }
    const std::string& waiting() const { return waiting_; }
    size_t in_flight() const { return buffer_.in_flight(); }
    const TxnBuffer& buffer() const { return buffer_; }
    uint64_t last_current_scn() const { return current_scn_; }

private:
    void prepare_session(uint64_t hi);
    // Puts the buffer back as it was before the window.
    void rollback_window();
    // Throws a retryable error unless the session holds every file of `chosen`.
    void check_session(const std::vector<LogFile>& chosen);
    void read_window(uint64_t hi, Window& window);
    // Checks a logical row (CSF joined) and adds it to the buffer.
    void dispatch(const ContentsRow& row);
    bool replicated(const std::string& table) const;

    LogMiner& miner_;
    ReaderOptions options_;
    TxnBuffer buffer_;
    CsfJoiner joiner_;
    uint64_t lo_ = 0;
    uint64_t current_scn_ = 0;
    std::string waiting_;
    std::vector<LogFile> session_files_;  // what the LogMiner session holds; empty: none
};

}  // namespace rep::oracle
