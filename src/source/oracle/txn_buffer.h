#pragma once

#include <cstdint>
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

// A DML event of a buffered transaction: its SQL_REDO (parsed when the transaction commits)
// or an undo marker, which cancels the latest live event of the same ROW_ID (LIFO per row:
// a partial rollback's compensation rows are never applied themselves).
struct TxnEvent {
    uint64_t scn = 0;
    std::string row_id;
    std::string table;
    std::string sql_redo;
    bool undo = false;
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
    std::vector<TxnEvent> events;  // kCommit: the live DML, in order (undo resolved)
    // kCommit: false for a transaction only to be marked committed, not applied (it committed
    // below a first run's --scn: the snapshot holds it).
    bool apply = true;
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
    explicit TxnBuffer(std::set<std::string> skip = {}) : skip_(std::move(skip)) {}

    void begin_window();
    void add(const MinedRow& row);
    // The actions of the window, in row order.
    std::vector<TxnAction> end_window();
    void abort_window();

    size_t in_flight() const { return txns_.size(); }

private:
    struct Txn {
        uint64_t start_scn = 0;
        std::vector<TxnEvent> events;
    };
    // The buffered transaction `xid` names, by the ffffffff prefix rule if need be.
    Txn* find(const std::string& xid, std::string* found);
    std::vector<TxnEvent> resolve(std::vector<TxnEvent> events) const;

    std::set<std::string> skip_;
    std::unordered_map<std::string, Txn> txns_;
    // The window's journal: event counts at its start, transactions it created, and the
    // actions it collected (commits and rollbacks still to run).
    std::unordered_map<std::string, size_t> sizes_;
    std::set<std::string> created_;
    std::vector<TxnAction> pending_;
};

}  // namespace rep::oracle
