#pragma once

// A simulated Oracle database for testing the oraclelogminer source without an Oracle
// server (reference §6.2): tables with primary keys and ROWIDs, an SCN clock on which
// several redo records (and, on RAC, commits) may share an SCN, redo threads whose flushed redo
// (LAST_REDO_SCN) lags the clock, online log groups that are switched, archived and overwritten,
// archived logs that can be purged, and transactions with savepoints, partial and full rollbacks
// and failed statements, each producing the redo records LogMiner would show. The LogMiner session
// over it is sim_logminer.h.
//
// Values are Oracle's text renderings (numbers as digits, strings as is); nullopt is NULL.
// Every table's first column is its primary key. Not thread-safe.

#include "source/oracle/logminer.h"

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace rep::oracle::sim {

using Value = std::optional<std::string>;

struct Row {
    std::vector<Value> values;
    std::string row_id;
};

struct Table {
    std::string owner;
    std::string name;
    std::vector<std::string> columns;  // the first is the primary key
    std::map<std::string, Row> rows;   // committed rows by key
    // SUPPLEMENTAL LOG DATA (ALL) COLUMNS: an update's WHERE has every column's old value,
    // not only the key's and those of the columns it sets.
    bool log_all_columns = false;
};

// One redo record: what LogMiner renders one contents row (or a CSF chain) from.
struct Record {
    uint64_t scn = 0;
    int thread = 0;
    uint64_t sequence = 0;  // the log it was written to
    std::string xid;        // 16 upper-case hex digits
    uint64_t txn_first_scn = 0;
    int op = 0;
    bool rollback = false;
    std::string owner;
    std::string table;
    std::string row_id;
    std::string sql_redo;
    uint64_t order = 0;    // write order over all threads
    bool flushed = false;  // written to the log file by LGWR: LogMiner can read it
    int64_t time_s = 0;    // wall clock when written, seconds since the epoch (UTC)
};

// The simulated server's time zone: UTC+05:30, so that the replicator's reading of redo
// TIMESTAMP (database time, no zone) into UTC is exercised with an offset that is not a whole
// number of hours.
inline constexpr int64_t kDbUtcOffsetSeconds = 19800;

// 'YYYY-MM-DD HH24:MI:SS' of `utc_seconds` in the simulated server's time zone (SYSDATE and
// V$LOGMNR_CONTENTS.TIMESTAMP).
std::string db_time_text(int64_t utc_seconds);

struct LogState {
    int thread = 0;
    uint64_t sequence = 0;
    uint64_t first_scn = 0;
    std::optional<uint64_t> next_scn;  // nullopt while current
    bool online = true;                // its online group still holds it
    bool archived = false;
    bool purged = false;  // archived file deleted
    std::string online_name() const;
    std::string archived_name() const;
};

class Database {
public:
    Database(uint64_t seed, int threads);
    // Whether the state after every commit is kept for states() (on by default; a benchmark
    // turns it off: it costs a copy of the schema per commit).
    void set_record_states(bool on) { record_states_ = on; }

    void create_table(const std::string& owner, const std::string& name,
                      std::vector<std::string> columns, bool log_all_columns = false);
    Table& table(const std::string& owner, const std::string& name);
    const Table& table(const std::string& owner, const std::string& name) const;
    // `owner`'s tables, ordered by name; REPLICATOR_SENTINEL only with `with_sentinel` (it is
    // not part of the data: state() leaves it out too).
    std::vector<const Table*> tables(const std::string& owner, bool with_sentinel = false) const;
    // The heartbeat MERGE of the sentinel table, one transaction on each thread.
    void sentinel_beat(const std::string& owner, const std::string& scn);

    // Workload. A transaction runs on one thread; DML on a key another open transaction
    // changed is the caller's to avoid (Oracle would block).
    std::string begin(int thread);
    void insert(const std::string& xid, const std::string& owner, const std::string& table,
                std::vector<Value> values);
    // Sets `changes` (column index -> value) on the row with key `key`; a change of column 0
    // moves the row to a new key.
    void update(const std::string& xid, const std::string& owner, const std::string& table,
                const std::string& key, const std::map<size_t, Value>& changes);
    void remove(const std::string& xid, const std::string& owner, const std::string& table,
                const std::string& key);
    // A statement whose first `rows` inserts succeed, then fails: their undo rows follow.
    void failed_insert(const std::string& xid, const std::string& owner, const std::string& table,
                       std::vector<std::vector<Value>> rows);
    size_t savepoint(const std::string& xid);
    void rollback_to(const std::string& xid, size_t savepoint);
    void commit(const std::string& xid);
    void rollback(const std::string& xid);

    // The row `key` as transaction `xid` sees it (its own changes included); nullptr if none.
    const Row* row(const std::string& xid, const std::string& owner, const std::string& table,
                   const std::string& key) const;
    // Keys changed by open transactions (not to be touched by another).
    bool locked(const std::string& owner, const std::string& table, const std::string& key) const;
    std::vector<std::string> open_transactions() const;
    int thread_of(const std::string& xid) const { return txns_.at(xid).thread; }

    void log_switch(int thread);
    void archive();              // archives every closed log not archived yet
    void purge(uint64_t below);  // deletes archived files that end at or below `below`
    void flush(int thread);      // LGWR: all of the thread's redo becomes readable
    void tick() { ++clock_; }    // the SCN moves with no redo

    // The committed rows of `owner`'s tables as one text, for comparisons.
    std::string state(const std::string& owner) const;
    // state(owner) right after each commit, by the committed XID (and "" for the start).
    const std::map<std::string, std::string>& states(const std::string& owner) const;
    // The first DML SCN of each open transaction (for a snapshot's backfill SCN).
    std::map<std::string, uint64_t> open_first_scns() const;

    // What LogMiner's views show.
    uint64_t current_scn() const { return clock_; }
    std::vector<RedoThread> threads() const;
    const std::vector<LogState>& logs() const { return logs_; }
    // Every record written, in write order (for diagnostics).
    const std::vector<Record>& all_records() const { return records_; }
    // The flushed records of log (thread, sequence), in write order.
    std::vector<const Record*> records(int thread, uint64_t sequence) const;

private:
    struct Change {
        std::string owner;
        std::string table;
        std::string key;
        std::optional<Row> before;
        std::optional<Row> after;
        std::vector<size_t> assigned;  // an update's SET columns (unchanged values included)
    };
    struct Txn {
        int thread = 0;
        uint64_t first_scn = 0;
        std::vector<Change> changes;
        // How many of `changes` name each "owner.table|key" (before or after image), so
        // that row() scans them only for keys the transaction touched.
        std::map<std::string, size_t> touched;
    };
    static std::vector<std::string> touched_keys(const Change& c);
    void add_change(Txn& txn, Change c);
    void drop_last_change(Txn& txn);

    uint64_t next_scn();
    void write(const std::string& xid, int op, bool rollback, const Change& change,
               const std::string& sql);
    void undo(const std::string& xid, const Change& change);
    std::string render(const Table& t, const Change& c) const;
    std::string new_row_id();
    void record_state(uint64_t scn, const std::string& xid);

    std::mt19937_64 rng_;
    uint64_t clock_ = 100;
    std::pair<uint64_t, int> last_commit_{0, 0};  // SCN and thread of the latest commit
    uint64_t order_ = 0;
    uint64_t row_ids_ = 0;
    uint32_t next_usn_ = 1;
    std::map<std::string, Table> tables_;  // "OWNER.NAME"
    std::map<std::string, Txn> txns_;
    std::vector<Record> records_;
    // records_ indexes by (thread, sequence): a window reads a few logs, not all the redo.
    std::map<std::pair<int, uint64_t>, std::vector<size_t>> by_log_;
    std::vector<size_t> flush_from_;  // per thread: records_ index of its first unflushed record
    std::vector<uint64_t> last_redo_;
    std::vector<LogState> logs_;
    std::map<std::string, std::map<std::string, std::string>> states_;
    bool record_states_ = true;
};

}  // namespace rep::oracle::sim
