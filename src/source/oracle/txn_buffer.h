#pragma once

#include "source/oracle/event_log.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace rep::oracle {

// One row of V$LOGMNR_CONTENTS as the reader dispatches it (reference §1.3), after the CSF
// join. Operation codes: 1 insert, 2 delete, 3 update, 7 commit, 36 rollback.
struct MinedRow {
    uint64_t scn = 0;
    std::string xid;  // RAWTOHEX(XID): 16 hex digits
    int op = 0;
    bool rollback = false;  // ROLLBACK = 1: an undo (compensation) row
    std::string row_id;
    std::string table;
    std::string sql_redo;
    int thread = 0;
    std::string timestamp;  // TIMESTAMP, database time (COMMIT rows: when it committed)
};

// Joins SQL_REDO split over continuation rows (CSF = 1 on every row but the last): the bytes
// are concatenated as they come, since a split may fall inside a quoted literal, between the
// two quotes of '' or inside a multi-byte character; the joined text must then be valid UTF-8.
class CsfJoiner {
public:
    // The logical row, once `row` completes it; nullopt while a chain goes on. Throws
    // rep::Error (fatal) when the joined text is not UTF-8.
    std::optional<MinedRow> push(MinedRow row, bool csf);
    // A chain the cursor ended in the middle of: the window must be read again. Throws
    // rep::Error (retryable) if one is open.
    void finish();

private:
    std::optional<MinedRow> open_;
};

// What a window's rows amount to, in row order, for the checkpointer and the applier
// (reference §3.2, §3.4).
struct TxnAction {
    enum class Kind : uint8_t {
        kRegister,  // first DML of `xid` on the schema: checkpoint row (xid, start_scn)
        kCommit,    // `xid` committed at commit_scn: apply `events`, then mark it committed
        kRollback,  // `xid` rolled back: delete its checkpoint row
    };
    Kind kind = Kind::kRegister;
    std::string xid;
    uint64_t start_scn = 0;
    uint64_t commit_scn = 0;
    LiveEvents events;  // kCommit: the live DML, in order (undo resolved), maybe on disk
    // kCommit: false for a transaction only to be marked committed, not applied (it committed
    // below a first run's --scn: the snapshot holds it).
    bool apply = true;
    std::string commit_time;  // kCommit: the COMMIT row's TIMESTAMP, database time
};

// Where open transactions go when memory runs short: once the in-memory events of all
// open transactions exceed `memory_limit` bytes, the largest are moved to files in `dir`
// until half the limit is in use. A transaction holding less than 1/64 of the limit is never
// moved (each moved transaction costs a file descriptor), so memory is bounded by the limit
// or, with more than 64 open transactions, by 1/64 of it per open transaction.
struct SpillOptions {
    std::filesystem::path dir;  // empty: never spill
    size_t memory_limit = 256U << 20;
};

// The in-flight transactions of the mined schema, and the window protocol that keeps a
// failed window retryable: rows are added between begin_window() and end_window(); commits
// and rollbacks seen in the window take effect only at end_window(), in row order, and
// abort_window() puts the buffer back as it was at begin_window().
//
// A transaction is known from its first DML on the schema (its start SCN; START rows are not
// needed). Rows of a transaction in the skip set (committed before a restart) are ignored
// whole. An undo row or a rollback whose XID is not buffered and ends in ffffffff (LogMiner
// could not resolve the sequence) matches the one buffered transaction with the same first 8
// hex digits; with several, add() throws rep::Error (fatal) rather than guess.
class TxnBuffer {
public:
    explicit TxnBuffer(std::set<std::string> skip = {}, SpillOptions spill = {})
        : skip_(std::move(skip)), spill_(std::move(spill)) {}

    void begin_window();
    void add(const MinedRow& row);
    // The actions of the window, in row order.
    std::vector<TxnAction> end_window();
    void abort_window();

    size_t in_flight() const { return txns_.size(); }
    // Bytes of events held in memory, and the open transactions with events on disk.
    size_t memory_bytes() const { return memory_; }
    size_t spilled() const;

private:
    struct Txn {
        uint64_t start_scn = 0;
        EventLog events;
    };
    // The buffered transaction `xid` names, by the ffffffff prefix rule if need be.
    Txn* find(const std::string& xid, std::string* found);
    void push(const std::string& xid, Txn& txn, TxnEvent event);
    // Moves the largest transactions to disk while memory is over the limit.
    void maybe_spill();
    void recount();

    std::set<std::string> skip_;
    SpillOptions spill_;
    size_t memory_ = 0;
    size_t next_check_ = 0;  // maybe_spill() waits until memory_ reaches it
    std::unordered_map<std::string, Txn> txns_;
    // The window's journal: event counts at its start, transactions it created, and the
    // actions it collected (commits and rollbacks still to run).
    std::unordered_map<std::string, size_t> sizes_;
    std::set<std::string> created_;
    std::vector<TxnAction> pending_;
};

}  // namespace rep::oracle
