#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rep::oracle {

// The seam between the reader's logic and Oracle (reference §6.1): what one LogMiner session
// in CDB$ROOT (or the only database of a non-CDB) is asked, as plain rows. The production
// implementation speaks OCI; tests use a simulated database behind the same interface, so
// the window loop, log selection and dispatch are tested without an Oracle server.
//
// Every call may throw rep::Error: retryable for what a new attempt may fix (a lost
// connection, ORA-00310/01368 on a log being overwritten), fatal otherwise. Calls run on the
// reader's thread only: LogMiner state belongs to one session.

// A row of V$THREAD: a redo thread (one per RAC instance).
struct RedoThread {
    int thread = 0;
    bool open = false;           // STATUS = 'OPEN'
    bool enabled = false;        // ENABLED = 'PUBLIC' (or 'PRIVATE'): a thread to mine
    uint64_t enabled_scn = 0;    // ENABLE_CHANGE#: the thread has no redo below it
    uint64_t last_redo_scn = 0;  // LAST_REDO_SCN: redo above it may still be in the log buffer
};

// A redo log file, online (V$LOG joined with V$LOGFILE, one member) or archived
// (V$ARCHIVED_LOG): [first_scn, next_scn) with next_scn exclusive; the CURRENT online log is
// open-ended (Oracle reports a huge NEXT_CHANGE#).
struct LogFile {
    std::string name;
    int thread = 0;
    uint64_t sequence = 0;
    uint64_t first_scn = 0;
    uint64_t next_scn = 0;
    bool archived = false;
    bool current = false;  // online only: STATUS = 'CURRENT'
    bool deleted = false;  // archived only: STATUS = 'D' (its file is gone)
};

// Operation codes of V$LOGMNR_CONTENTS (reference §1.4).
enum : int {
    kOpInsert = 1,
    kOpDelete = 2,
    kOpUpdate = 3,
    kOpDdl = 5,
    kOpStart = 6,
    kOpCommit = 7,
    kOpSelectLobLocator = 9,
    kOpLobWrite = 10,
    kOpLobTrim = 11,
    kOpMissingScn = 34,
    kOpRollback = 36,
    kOpUnsupported = 255,
};

// A row of V$LOGMNR_CONTENTS, the columns of reference §1.3, each as the text Oracle renders
// (the SCN parsed from its decimal text, never through a floating NUMBER).
struct ContentsRow {
    uint64_t scn = 0;
    std::string xid;  // RAWTOHEX(XID), 16 hex digits
    int op = 0;
    bool csf = false;       // SQL_REDO continues in the next row
    bool rollback = false;  // ROLLBACK = 1: an undo row
    int status = 0;
    int thread = 0;
    std::string seg_owner;
    std::string table;
    std::string row_id;
    std::string rs_id;
    uint64_t ssn = 0;
    std::string timestamp;  // 'YYYY-MM-DD HH24:MI:SS', database time
    std::string src_con_name;
    std::string info;
    std::string sql_redo;  // NULL arrives as empty
};

// The open V$LOGMNR_CONTENTS query of one window, read in arrays.
class ContentsCursor {
public:
    virtual ~ContentsCursor() = default;
    // Appends up to `max_rows` rows to `out`; false once the cursor is exhausted (rows may
    // still have been appended by that call).
    virtual bool fetch(std::vector<ContentsRow>& out, size_t max_rows) = 0;
};

// What the contents query selects (reference §1.3): rows with lo <= SCN <= hi that are
// commits or rollbacks, or DML, DDL and the operations we refuse, on `schema`; with `pdb`
// set, only that container's rows.
struct ContentsQuery {
    uint64_t lo = 0;
    uint64_t hi = 0;
    std::string schema;
    std::optional<std::string> pdb;
};

class LogMiner {
public:
    virtual ~LogMiner() = default;

    // SELECT CURRENT_SCN FROM V$DATABASE.
    virtual uint64_t current_scn() = 0;
    virtual std::vector<RedoThread> threads() = 0;
    // Online logs that may hold redo in [lo, hi]: CURRENT, or NEXT_CHANGE# > lo, and
    // FIRST_CHANGE# <= hi.
    virtual std::vector<LogFile> online_logs(uint64_t lo, uint64_t hi) = 0;
    // Archived logs of the current incarnation with NEXT_CHANGE# > lo and FIRST_CHANGE# <= hi,
    // deleted ones included (so that a purge is reported, not waited for).
    virtual std::vector<LogFile> archived_logs(uint64_t lo, uint64_t hi) = 0;

    // DBMS_LOGMNR.ADD_LOGFILE: `first` starts a new list (OPTIONS => NEW), else ADDFILE.
    virtual void add_logfile(const std::string& name, bool first) = 0;
    // V$LOGMNR_LOGS: the files the session holds, with the thread and sequence each turned
    // out to be when it was added (an online file may have been reused by a later sequence
    // between the log views' answer and ADD_LOGFILE).
    virtual std::vector<LogFile> session_logs() = 0;
    // DBMS_LOGMNR.START_LOGMNR over the added files, from the online catalog, with
    // NO_ROWID_IN_STMT.
    virtual void start(uint64_t lo, uint64_t hi) = 0;
    // DBMS_LOGMNR.END_LOGMNR (no session open is not an error).
    virtual void end() = 0;
    // Opens the contents query of the started session.
    virtual std::unique_ptr<ContentsCursor> contents(const ContentsQuery& query) = 0;
};

}  // namespace rep::oracle
