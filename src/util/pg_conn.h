#pragma once

#include "base/duration.h"
#include "base/error.h"
#include "util/conn_observer.h"
#include "util/target_session.h"

#include <libpq-fe.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rep::util {

struct PgResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// SQLSTATEs that mean "try again": serialization failure, deadlock, CockroachDB's retry
// variants, the connection classes (08xxx), the server shutting down or starting up, an object
// (such as a replication slot) still held by a previous session, and statement timeouts.
bool is_retryable_sqlstate(std::string_view sqlstate);

// A libpq connection owned by one thread at a time: the production TargetSession, and the
// plain SQL connection of the PostgreSQL source's preflight and monitor. It connects on first
// use (or after close()); a connection that broke stays broken until the owner reconnects, so
// a lost transaction is never papered over. All calls throw rep::Error: retryable for lost
// connections and retryable SQLSTATEs, fatal otherwise. Messages name the server by its
// redacted connection string (never the password).
class PgConn final : public TargetSession {
public:
    // `what` names the connection in messages ("source", "target", "staging").
    PgConn(std::string conninfo, std::string what);
    ~PgConn() override;
    PgConn(const PgConn&) = delete;
    PgConn& operator=(const PgConn&) = delete;

    void connect() override;
    // Seconds libpq may spend connecting (connect_timeout); 0 keeps the connection string's
    // (10 s when it sets none).
    void set_connect_timeout(int seconds) { connect_timeout_ = seconds; }
    // Longest wait for the answer to a statement or a pipeline before the connection is
    // dropped as dead (a retryable error); keep it above the server's statement_timeout.
    void set_response_timeout(Duration timeout) { response_timeout_ = timeout; }
    // Statements run after every (re)connect, e.g. SET statement_timeout.
    void set_session_sql(std::vector<std::string> sql) { session_sql_ = std::move(sql); }
    bool connected() const override;
    bool in_transaction() const override;
    PGconn* raw() { return conn_; }
    const std::string& what() const { return what_; }
    std::string describe() const;  // "target postgresql://user@host:port/db"

    // Runs a statement with no parameters; returns its result (command or tuples).
    PgResult exec(const std::string& sql);
    // Runs a statement with text parameters (nullopt is SQL NULL).
    PgResult exec_params(const std::string& sql, const Params& params);

    void execute(const std::string& sql, const Params& params = {}) override;
    std::vector<Row> query(const std::string& sql, const Params& params = {}) override;
    void exec_pipeline(const std::vector<PipelineCall>& calls, size_t* failed) override;
    // Sends and reads in two steps (pg_pipeline.cc): the pipelines sent stay in libpq's
    // pipeline mode until every answer is read, and the statements they prepare count as
    // prepared for the pipelines sent after them.
    void send_pipeline(const std::vector<PipelineCall>& calls) override;
    void finish_pipeline(size_t* failed) override;
    size_t pipelines_unanswered() const override { return unanswered_.size(); }

    int server_version() const;
    // Whether the server this connection reached runs on this machine (a Unix socket, a
    // loopback address or one of this machine's addresses: util/this_machine.h); false when
    // not connected.
    bool on_this_machine() const;
    // Drops the connection (prepared statements are forgotten with it).
    void close();

private:
    PgResult check(PGresult* r, std::string_view sql);
    // Collects the results of a statement sent with PQsend*, waiting with the deadline.
    PgResult results(std::string_view sql);
    // Connects if need be; refuses a broken connection, and any statement while pipelines
    // await their answers.
    void ensure_usable();
    // Tells the process's ConnObserver when this connection opens, closes, or moves between
    // idle and acquired (running a statement or holding a transaction open).
    void report(bool open, bool acquired);
    // Acquired for the length of one call, then idle unless a transaction is open.
    struct InUse {
        PgConn& c;
        explicit InUse(PgConn& conn) : c(conn) { c.report(c.connected(), true); }
        ~InUse() {
            bool open = c.connected();
            auto tx = open ? PQtransactionStatus(c.conn_) : PQTRANS_UNKNOWN;
            c.report(open, open && tx != PQTRANS_IDLE && tx != PQTRANS_UNKNOWN);
        }
        InUse(const InUse&) = delete;
        InUse& operator=(const InUse&) = delete;
    };
    // A pipeline sent and not yet read: per statement sent, the call it belongs to, the name
    // it prepares (if it is a prepare) and how its error names it.
    struct Sent {
        size_t call;
        std::string prepares;
        std::string head;
    };
    using Unanswered = std::vector<Sent>;
    bool is_prepared(const std::string& name) const;
    // Drops a connection whose pipeline cannot be finished; the error to throw.
    Error broken(std::string_view what);

    std::string conninfo_;
    std::string what_;
    PGconn* conn_ = nullptr;
    std::vector<std::string> prepared_;
    std::deque<Unanswered> unanswered_;   // oldest first
    std::vector<std::string> preparing_;  // prepared by pipelines not yet answered
    std::vector<std::string> session_sql_;
    int connect_timeout_ = 0;
    Duration response_timeout_ = std::chrono::seconds(60);
    ConnObserver* observer_ = nullptr;  // the one this connection reported its opening to
    bool reported_open_ = false;
    bool reported_acquired_ = false;
};

// Builds the Error for a failed result or connection; exposed for the replication connection.
Error pg_error(PGconn* conn, const PGresult* result, std::string_view context);

}  // namespace rep::util
