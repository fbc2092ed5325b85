#include "util/pg_conn.h"

#include "base/conninfo.h"
#include "util/libpq_io.h"
#include "util/row_contents.h"
#include "util/this_machine.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace rep::util {

namespace {
std::atomic<ConnObserver*> g_observer{nullptr};
}  // namespace

void set_conn_observer(ConnObserver* observer) {
    g_observer = observer;
}

ConnObserver* conn_observer() {
    return g_observer.load();
}

void PgConn::report(bool open, bool acquired) {
    acquired = open && acquired;
    if (observer_ != nullptr && observer_ != conn_observer()) {
        // The observer this connection reported to is gone (the process's metrics ended
        // before this connection): nothing to tell anyone.
        observer_ = nullptr;
        reported_open_ = reported_acquired_ = false;
    }
    if (observer_ == nullptr || (open == reported_open_ && acquired == reported_acquired_)) {
        return;
    }
    observer_->state_changed(what_, static_cast<int>(open) - static_cast<int>(reported_open_),
                             static_cast<int>(acquired) - static_cast<int>(reported_acquired_));
    reported_open_ = open;
    reported_acquired_ = acquired;
    if (!open) {
        observer_ = nullptr;  // the next connection reports to the observer of its time
    }
}

bool is_retryable_sqlstate(std::string_view s) {
    if (s.size() != 5) {
        return false;
    }
    if (s == "08P01") {
        return false;  // protocol violation, e.g. CockroachDB refusing a message too large
    }
    return s == "40001" || s == "40P01" || s == "40003" || s.substr(0, 2) == "08" || s == "57P01" ||
           s == "57P02" || s == "57P03" || s == "55P03" || s == "55006" || s == "53300" ||
           s == "57014";
}

Error pg_error(PGconn* conn, const PGresult* result, std::string_view context) {
    std::string sqlstate;
    std::string message;
    if (result != nullptr) {
        const char* st = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        sqlstate = st != nullptr ? st : "";
        const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
        message = primary != nullptr ? primary : PQresultErrorMessage(result);
        const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
        if (detail != nullptr) {
            message += fmt::format(" ({})", detail);
        }
    } else if (conn != nullptr) {
        message = PQerrorMessage(conn);
    }
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    message = hide_row_contents(sqlstate, message);
    bool lost = conn == nullptr || PQstatus(conn) != CONNECTION_OK;
    bool retry = lost || is_retryable_sqlstate(sqlstate);
    std::string text = fmt::format("{}: {}", context, message);
    if (!sqlstate.empty()) {
        text += fmt::format(" (SQLSTATE {})", sqlstate);
    } else if (lost) {
        text += " (connection lost)";
    }
    return Error(retry ? ErrorKind::kRetryable : ErrorKind::kFatal, text, sqlstate);
}

PgConn::PgConn(std::string conninfo, std::string what)
    : conninfo_(std::move(conninfo)), what_(std::move(what)) {}

PgConn::~PgConn() {
    close();
}

std::string PgConn::describe() const {
    return what_ + " " + redact_conninfo(conninfo_);
}

bool PgConn::on_this_machine() const {
    if (!connected()) {
        return false;
    }
    const char* host = PQhost(conn_);
    const char* addr = PQhostaddr(conn_);
    return is_this_machine(host != nullptr ? host : "", addr != nullptr ? addr : "",
                           local_addresses());
}

void PgConn::connect() {
    close();
    std::vector<std::pair<std::string, std::string>> params;
    if (connect_timeout_ > 0) {
        params.emplace_back("connect_timeout", std::to_string(connect_timeout_));
    }
    auto dial_start = std::chrono::steady_clock::now();
    conn_ = connect_libpq(conninfo_, params);
    if (ConnObserver* o = conn_observer()) {
        o->dialed(
            what_,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - dial_start).count(),
            PQstatus(conn_) == CONNECTION_OK);
        if (PQstatus(conn_) == CONNECTION_OK) {
            observer_ = o;
            report(true, false);
        }
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
        Error e = pg_error(conn_, nullptr, "cannot connect to " + describe());
        close();
        // A refused or failed connection may be a restart in progress: let the caller retry.
        // A refused password, a certificate that does not verify or a bad parameter will not
        // pass by waiting.
        throw Error(
            connect_error_is_permanent(e.what()) ? ErrorKind::kFatal : ErrorKind::kRetryable,
            e.what());
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    for (const auto& sql : session_sql_) {
        exec(sql);
    }
}

PgResult PgConn::results(std::string_view sql) {
    // As PQexec does: the last result, or the first error.
    PgResult kept;
    bool kept_failed = false;
    auto deadline = std::chrono::steady_clock::now() + response_timeout_;
    for (;;) {
        try {
            await_result(conn_, deadline, describe());
        } catch (const Error&) {
            close();  // an answer may still be on its way: nothing else can use the connection
            throw;
        }
        PGresult* r = PQgetResult(conn_);
        if (r == nullptr) {
            break;
        }
        auto st = PQresultStatus(r);
        if (kept_failed) {
            PQclear(r);
        } else {
            kept.reset(r);
            kept_failed = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_COPY_BOTH;
        }
        if (st == PGRES_COPY_BOTH || st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
            break;  // no end of results until the copy ends
        }
    }
    return check(kept.release(), sql);
}

bool PgConn::in_transaction() const {
    return conn_ != nullptr && PQtransactionStatus(conn_) == PQTRANS_INTRANS;
}

bool PgConn::connected() const {
    return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

void PgConn::close() {
    if (conn_ != nullptr) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
    report(false, false);
    prepared_.clear();
    unanswered_.clear();
    preparing_.clear();
}

int PgConn::server_version() const {
    return conn_ != nullptr ? PQserverVersion(conn_) : 0;
}

PgResult PgConn::check(PGresult* r, std::string_view sql) {
    PgResult res(r);
    auto st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_BOTH) {
        return res;
    }
    std::string head(sql.substr(0, 120));
    std::replace(head.begin(), head.end(), '\n', ' ');
    throw pg_error(conn_, res.get(), fmt::format("{} failed on {}", head, describe()));
}

// Connects on first use or after close(). A connection that broke is NOT silently replaced:
// statements that follow would run outside the transaction the caller believes is open (a
// memo write in autocommit, a COMMIT with nothing to commit), so the caller must see the error,
// roll back and reconnect deliberately.
void PgConn::ensure_usable() {
    if (!unanswered_.empty()) {
        throw Error(ErrorKind::kFatal,
                    fmt::format("internal error: a statement was sent to {} while {} pipelines "
                                "await their answers",
                                describe(), unanswered_.size()));
    }
    if (conn_ == nullptr) {
        connect();
    } else if (PQstatus(conn_) != CONNECTION_OK) {
        throw Error(ErrorKind::kRetryable, "the connection to " + describe() + " was lost");
    }
}

PgResult PgConn::exec(const std::string& sql) {
    ensure_usable();
    InUse in_use(*this);
    if (PQsendQuery(conn_, sql.c_str()) != 1) {
        return check(nullptr, sql);
    }
    return results(sql);
}

PgResult PgConn::exec_params(const std::string& sql, const Params& params) {
    ensure_usable();
    InUse in_use(*this);
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        values.push_back(p ? p->c_str() : nullptr);
    }
    if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) != 1) {
        return check(nullptr, sql);
    }
    return results(sql);
}

void PgConn::execute(const std::string& sql, const Params& params) {
    if (params.empty()) {
        exec(sql);
    } else {
        exec_params(sql, params);
    }
}

std::vector<TargetSession::Row> PgConn::query(const std::string& sql, const Params& params) {
    PgResult r = exec_params(sql, params);
    std::vector<Row> rows(static_cast<size_t>(PQntuples(r.get())));
    int cols = PQnfields(r.get());
    for (size_t i = 0; i < rows.size(); ++i) {
        int row = static_cast<int>(i);
        for (int c = 0; c < cols; ++c) {
            rows[i].push_back(PQgetisnull(r.get(), row, c) != 0
                                  ? std::nullopt
                                  : std::optional<std::string>(PQgetvalue(r.get(), row, c)));
        }
    }
    return rows;
}

}  // namespace rep::util
