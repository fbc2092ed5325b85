// The Oracle source's transaction buffer and CSF join: the reference's edge cases 5, 6 and
// 12-18 (continuation rows, savepoints, failed statements, full rollbacks, unresolved XIDs,
// interleaving, restarts) and the window protocol that keeps a failed window retryable.

#include "source/oracle/txn_buffer.h"

#include "base/error.h"

#include <gtest/gtest.h>

namespace rep::oracle {
namespace {

using Kind = TxnAction::Kind;

MinedRow dml(uint64_t scn, const std::string& xid, int op, const std::string& row_id,
             const std::string& sql, bool rollback = false) {
    MinedRow r;
    r.scn = scn;
    r.xid = xid;
    r.op = op;
    r.row_id = row_id;
    r.table = "T";
    r.sql_redo = sql;
    r.rollback = rollback;
    return r;
}

MinedRow marker(uint64_t scn, const std::string& xid, int op) {
    MinedRow r;
    r.scn = scn;
    r.xid = xid;
    r.op = op;
    return r;
}

// "kind xid start/commit: sql; sql" per action.
std::vector<std::string> describe(const std::vector<TxnAction>& actions) {
    std::vector<std::string> out;
    for (const TxnAction& a : actions) {
        std::string s = a.kind == Kind::kRegister ? "register "
                        : a.kind == Kind::kCommit ? "commit "
                                                  : "rollback ";
        s += a.xid + " " + std::to_string(a.start_scn);
        if (a.kind == Kind::kCommit) {
            s += "/" + std::to_string(a.commit_scn) + ":";
            for (const TxnEvent& e : a.events.to_vector()) {
                s += " " + e.sql_redo;
            }
        }
        out.push_back(s);
    }
    return out;
}

const std::string kT1 = "0f001f0040060000";
const std::string kT2 = "0a0002002a010000";

// Fixture 12: insert r1; savepoint; update r1; insert r2; roll back to the savepoint (undo
// rows for r2 and r1, in reverse); commit: only the insert of r1 is applied.
TEST(TxnBuffer, SavepointRollbackCancelsTheLatestEventsPerRow) {
    TxnBuffer b;
    b.begin_window();
    b.add(dml(10, kT1, 1, "R1", "ins r1"));
    b.add(dml(11, kT1, 3, "R1", "upd r1"));
    b.add(dml(12, kT1, 1, "R2", "ins r2"));
    b.add(dml(13, kT1, 2, "R2", "undo: del r2", true));
    b.add(dml(14, kT1, 3, "R1", "undo: upd r1 back", true));
    b.add(marker(15, kT1, 7));
    EXPECT_EQ(
        describe(b.end_window()),
        (std::vector<std::string>{"register " + kT1 + " 10", "commit " + kT1 + " 10/15: ins r1"}));
    EXPECT_EQ(b.in_flight(), 0u);
}

// Fixtures 13 and 14: a failed statement's undo rows cancel what it did, LIFO, and the
// transaction commits its other work; a full rollback drops everything and its checkpoint row.
TEST(TxnBuffer, FailedStatementsAndFullRollbacks) {
    TxnBuffer b;
    b.begin_window();
    b.add(dml(10, kT1, 1, "A", "ins a"));
    b.add(dml(11, kT1, 1, "B", "ins b"));  // a multi-row insert: its third row fails
    b.add(dml(12, kT1, 1, "C", "ins c"));
    b.add(dml(13, kT1, 2, "C", "undo c", true));
    b.add(dml(14, kT1, 2, "B", "undo b", true));
    b.add(dml(15, kT1, 3, "A", "upd a"));
    b.add(dml(16, kT2, 1, "X", "ins x"));
    b.add(dml(17, kT2, 2, "X", "undo x", true));
    b.add(marker(18, kT2, 36));
    b.add(marker(19, kT1, 7));
    EXPECT_EQ(describe(b.end_window()),
              (std::vector<std::string>{"register " + kT1 + " 10", "register " + kT2 + " 16",
                                        "rollback " + kT2 + " 16",
                                        "commit " + kT1 + " 10/19: ins a upd a"}));
}

// Fixtures 15-18: an undo row or rollback with an unresolved XID (…ffffffff) matches the one
// buffered transaction of the same undo segment and slot, and stops rather than guess between
// two;
// transactions commit in commit order whatever their start; commits of transactions without
// DML on the schema are ignored.
TEST(TxnBuffer, UnresolvedXidsInterleavingAndForeignCommits) {
    TxnBuffer b;
    b.begin_window();
    b.add(dml(10, kT1, 1, "A", "t1 ins a"));  // T1 starts in window 1
    EXPECT_EQ(describe(b.end_window()), (std::vector<std::string>{"register " + kT1 + " 10"}));
    b.begin_window();
    b.add(dml(20, kT2, 1, "B", "t2 ins b"));  // T2 starts and commits in window 2
    b.add(marker(21, kT2, 7));
    b.add(marker(22, "0b00010099990000", 7));  // touched another schema only
    b.add(dml(23, "0f001f00ffffffff", 1, "A", "undo a", true));
    EXPECT_EQ(describe(b.end_window()),
              (std::vector<std::string>{"register " + kT2 + " 20",
                                        "commit " + kT2 + " 20/21: t2 ins b"}));
    b.begin_window();
    b.add(dml(30, kT1, 1, "C", "t1 ins c"));
    b.add(dml(31, "0f001f0050070000", 1, "D", "t3 ins d"));  // same USN and slot as T1
    try {
        b.add(dml(32, "0f001f00ffffffff", 1, "C", "undo c", true));  // two candidates now
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("2 buffered transactions"), std::string::npos)
            << e.what();
    }
    b.abort_window();
    b.begin_window();
    b.add(dml(30, kT1, 1, "C", "t1 ins c"));
    b.add(marker(33, kT1, 7));
    EXPECT_EQ(describe(b.end_window()),
              (std::vector<std::string>{"commit " + kT1 + " 10/33: t1 ins c"}));  // undo a applied
}

// A window that fails part-way is read again from its start: abort_window() puts the buffer
// back as it was, so nothing is registered, applied or dropped twice.
TEST(TxnBuffer, AnAbortedWindowLeavesNoTrace) {
    TxnBuffer b;
    b.begin_window();
    b.add(dml(10, kT1, 1, "A", "ins a"));
    b.end_window();
    b.begin_window();
    b.add(dml(20, kT1, 1, "B", "ins b"));
    b.add(dml(21, kT2, 1, "C", "ins c"));
    b.add(marker(22, kT1, 7));
    b.abort_window();
    EXPECT_EQ(b.in_flight(), 1u);
    b.begin_window();
    b.add(dml(20, kT1, 1, "B", "ins b"));
    b.add(dml(21, kT2, 1, "C", "ins c"));
    b.add(marker(22, kT1, 7));
    EXPECT_EQ(describe(b.end_window()),
              (std::vector<std::string>{"register " + kT2 + " 21",
                                        "commit " + kT1 + " 10/22: ins a ins b"}));
}

// Fixture 19: after a restart, a transaction committed before it (in the skip set) is ignored
// whole, its COMMIT included, and never registered again.
TEST(TxnBuffer, TransactionsCommittedBeforeARestartAreSkipped) {
    TxnBuffer b({kT2});
    b.begin_window();
    b.add(dml(10, kT1, 1, "A", "t1"));
    b.add(dml(11, kT2, 1, "B", "t2"));
    b.add(marker(12, kT2, 7));
    b.add(marker(13, kT1, 7));
    EXPECT_EQ(describe(b.end_window()), (std::vector<std::string>{"register " + kT1 + " 10",
                                                                  "commit " + kT1 + " 10/13: t1"}));
}

// Fixtures 5 and 6: a statement split over continuation rows inside a '' pair and inside a
// three-byte character joins back to the original; a chain the cursor ends in is retried; a
// join that is not UTF-8 is refused.
TEST(CsfJoiner, JoinsBytesAcrossRowsAndRefusesBrokenChains) {
    const std::string full = "insert into \"APP\".\"T\"(\"S\") values ('it''s 5 \xE2\x82\xAC');";
    size_t quote = full.find("''") + 1;   // between the two quotes
    size_t euro = full.find('\xE2') + 1;  // inside the euro sign
    CsfJoiner j;
    EXPECT_FALSE(j.push(dml(1, kT1, 1, "A", full.substr(0, quote)), true));
    EXPECT_FALSE(j.push(dml(1, kT1, 1, "A", full.substr(quote, euro - quote)), true));
    auto joined = j.push(dml(1, kT1, 1, "A", full.substr(euro)), false);
    ASSERT_TRUE(joined);
    EXPECT_EQ(joined->sql_redo, full);
    EXPECT_NO_THROW(j.finish());

    EXPECT_FALSE(j.push(dml(2, kT1, 1, "A", "insert into"), true));
    try {
        j.finish();
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.retryable());
    }
    EXPECT_THROW(j.push(dml(3, kT1, 1, "A", "values ('\xE2\x82')"), false), Error);
}

}  // namespace
}  // namespace rep::oracle
