#pragma once

// An in-memory stand-in for the target database, behind the TargetSession interface, so the
// apply logic (batch fold, grouping, retries, salvage, checkpoints, parallel workers) runs in
// unit tests without a server. It understands exactly the SQL this project generates
// (target::Dialect for PostgreSQL, staging::Memo) and keeps tables as rows of text values:
//   INSERT INTO <table> (<cols>) ... ON CONFLICT     upsert of the listed columns
//   DELETE FROM <table> WHERE (<pk>) IN ...           delete by key
//   UPDATE <table> AS target_row SET ... WHERE (<pk>) = (<old key>)   a key change in place
//   TRUNCATE <table>, ...                             empties the tables
//   ... (key, value) VALUES ...                       memo upsert; SELECT ... WHERE key = $1 reads
// Each session's transaction is applied to the shared database at COMMIT, atomically.
// Faults are injected per statement (fail) and per COMMIT (break_next_commit).

#include "base/error.h"
#include "target/target_table.h"
#include "util/target_session.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rep::testing {

// One data statement as the fake understood it.
struct FakeStatement {
    enum class Kind { kUpsert, kDelete, kMove, kTruncate, kMemo, kOther };
    Kind kind = Kind::kOther;
    std::string table;  // as the SQL spells it: "public"."items"
    // upsert, move: the columns written; delete: the key
    std::vector<std::string> columns;
    std::vector<std::string> old_key;  // move: the key columns its rows end with
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::vector<std::string> tables;  // truncate
};

using FakeRow = std::map<std::string, std::optional<std::string>>;  // column -> value

// The shared database. Thread-safe.
class FakeDatabase {
public:
    // Tables must be declared (their keys identify rows).
    void add_table(const target::TargetTable& table);
    // Puts a row straight into a table, as if it had always been there.
    void put(const std::string& table, const FakeRow& row);

    // Rows of a table, keyed by their primary key values joined with '|'.
    std::map<std::string, FakeRow> rows(const std::string& table) const;
    std::optional<std::string> memo(const std::string& key) const;
    // The values committed to a memo key, in commit order.
    std::vector<std::string> memo_writes(const std::string& key) const;
    size_t commits() const;

    // Called for every data statement before it runs; an Error returned is thrown by the
    // session as the server's error for that statement.
    std::function<std::optional<Error>(const FakeStatement&)> fail;
    // How the next COMMIT fails: the connection breaks, or (CockroachDB's 40003, "statement
    // completion unknown") the server answers that it cannot tell, the connection still up,
    // or the session is terminated (PostgreSQL's 57P01 from pg_terminate_backend), read
    // before the connection is seen to close, or the answer cannot be read (a protocol error
    // without a SQLSTATE, not retryable).
    enum class CommitFault { kConnectionLost, kAmbiguousResult, kTerminated, kGarbled };
    // The next COMMIT fails so: with `landed` it commits first, else not.
    void break_next_commit(bool landed, CommitFault how = CommitFault::kConnectionLost);

private:
    friend class FakeSession;
    struct Table {
        std::vector<std::string> pk;
        std::map<std::string, FakeRow> rows;
    };
    void apply(const FakeStatement& s);  // under the lock
    std::optional<Error> check(const FakeStatement& s);
    // Returns how the COMMIT must fail, if it must, and applies it if it lands.
    std::optional<CommitFault> commit(const std::vector<FakeStatement>& statements);

    mutable std::mutex mu_;
    std::map<std::string, Table> tables_;
    std::map<std::string, std::string> memo_;
    std::vector<std::pair<std::string, std::string>> memo_writes_;
    size_t commits_ = 0;
    std::optional<bool> break_commit_;  // landed?
    CommitFault break_how_ = CommitFault::kConnectionLost;
};

class FakeSession final : public util::TargetSession {
public:
    explicit FakeSession(FakeDatabase& db) : db_(db) {}

    void connect() override;
    bool connected() const override { return connected_; }
    bool in_transaction() const override { return in_txn_ && !aborted_; }
    void execute(const std::string& sql, const Params& params = {}) override;
    std::vector<Row> query(const std::string& sql, const Params& params = {}) override;
    void exec_pipeline(const std::vector<PipelineCall>& calls, size_t* failed) override;
    // Runs the calls at once (TargetSession's default), and then refuses every other
    // statement until their answers are read, as a real connection in pipeline mode must.
    void send_pipeline(const std::vector<PipelineCall>& calls) override;

    size_t pipelines() const { return pipelines_; }
    size_t connects() const { return connects_; }

private:
    // Runs one statement; throws the server's error.
    void run(const std::string& sql, const std::vector<std::optional<std::string>>& values);
    void ensure_connected();
    // Throws if answers of sent pipelines are still unread.
    void ensure_free() const;

    FakeDatabase& db_;
    bool connected_ = false;
    bool in_txn_ = false;
    bool aborted_ = false;
    std::vector<FakeStatement> pending_;  // the open transaction's statements
    size_t pipelines_ = 0;
    size_t connects_ = 0;
    bool sending_ = false;
};

// Parses a text[] literal as util::TextArrayBuilder writes it ({"a",NULL,"b \"c\""}).
std::vector<std::optional<std::string>> parse_text_array(const std::string& literal);

}  // namespace rep::testing
