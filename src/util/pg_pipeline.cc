// PgConn's pipelines (libpq's pipeline mode): many statements in one round trip, and with
// send_pipeline() several such round trips in flight at once on one connection.
#include "util/conn_observer.h"
#include "util/libpq_io.h"
#include "util/pg_conn.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace rep::util {

bool PgConn::is_prepared(const std::string& name) const {
    return std::find(prepared_.begin(), prepared_.end(), name) != prepared_.end() ||
           std::find(preparing_.begin(), preparing_.end(), name) != preparing_.end();
}

Error PgConn::broken(std::string_view what) {
    Error e = pg_error(conn_, nullptr, fmt::format("{} on {}", what, describe()));
    // Results may still be in flight: the connection cannot be used for anything else. Drop
    // it; the caller's transaction is gone with it.
    close();
    return Error(ErrorKind::kRetryable, e.what());
}

void PgConn::exec_pipeline(const std::vector<PipelineCall>& calls, size_t* failed) {
    ensure_usable();  // not behind pipelines whose answers are unread: it would read theirs
    send_pipeline(calls);
    finish_pipeline(failed);
}

void PgConn::send_pipeline(const std::vector<PipelineCall>& calls) {
    if (unanswered_.empty()) {
        ensure_usable();
    } else if (!connected()) {
        throw broken("sending a pipeline");
    }
    InUse in_use(*this);
    ConnObserver* cache_observer = conn_observer();
    if (unanswered_.empty() && PQenterPipelineMode(conn_) != 1) {
        throw broken("cannot enter pipeline mode");
    }
    // Non-blocking while sending, so that the send has a deadline (flush_output): a pipeline
    // may be megabytes, and sent behind another whose answers are not read yet.
    if (PQsetnonblocking(conn_, 1) != 0) {
        throw broken("cannot send without blocking");
    }
    auto head = [](const PipelineCall& c) {
        std::string h = c.name != nullptr ? *c.name : c.sql->substr(0, 120);
        std::replace(h.begin(), h.end(), '\n', ' ');
        return h;
    };
    Unanswered sent;
    sent.reserve(calls.size());
    for (size_t i = 0; i < calls.size(); ++i) {
        const PipelineCall& c = calls[i];
        int n = static_cast<int>(c.values.size());
        if (c.name == nullptr) {
            if (PQsendQueryParams(conn_, c.sql->c_str(), n, nullptr, c.values.data(), nullptr,
                                  nullptr, 0) != 1) {
                throw broken("sending a statement");
            }
            sent.push_back({i, {}, {}});
            continue;
        }
        bool prepare = !is_prepared(*c.name);
        if (cache_observer != nullptr) {
            cache_observer->statement_cache(!prepare);
        }
        if (prepare) {
            if (PQsendPrepare(conn_, c.name->c_str(), c.sql->c_str(), n, nullptr) != 1) {
                throw broken("sending a statement");
            }
            preparing_.push_back(*c.name);
            sent.push_back({i, *c.name, {}});
        }
        if (PQsendQueryPrepared(conn_, c.name->c_str(), n, c.values.data(), nullptr, nullptr, 0) !=
            1) {
            throw broken("sending a statement");
        }
        sent.push_back({i, {}, {}});
    }
    if (PQpipelineSync(conn_) != 1) {
        throw broken("sending a pipeline");
    }
    try {
        flush_output(conn_, std::chrono::steady_clock::now() + response_timeout_, describe());
    } catch (const Error&) {
        close();  // part of a pipeline went out: the connection cannot be used any more
        throw;
    }
    if (PQsetnonblocking(conn_, 0) != 0) {
        throw broken("sending a pipeline");
    }
    // How an error names the statement, kept now: the calls do not outlive this.
    for (Sent& s : sent) {
        s.head = head(calls[s.call]);
    }
    unanswered_.push_back(std::move(sent));
}

void PgConn::finish_pipeline(size_t* failed) {
    if (unanswered_.empty()) {
        throw Error(ErrorKind::kFatal, "internal error: no pipeline awaits its answers");
    }
    if (!connected()) {
        throw broken("reading pipeline results");
    }
    InUse in_use(*this);
    Unanswered sent = std::move(unanswered_.front());
    unanswered_.pop_front();
    // Every result is waited for with a deadline: a silent peer must not hold the worker.
    auto deadline = std::chrono::steady_clock::now() + response_timeout_;
    auto next_result = [&] {
        try {
            await_result(conn_, deadline, describe());
        } catch (const Error&) {
            close();
            throw;
        }
        return PQgetResult(conn_);
    };
    std::optional<Error> error;
    size_t error_call = 0;
    for (const Sent& s : sent) {
        PGresult* r = next_result();
        if (r == nullptr) {
            throw broken("reading pipeline results");
        }
        PgResult res(r);
        auto st = PQresultStatus(r);
        if (!s.prepares.empty()) {
            // Prepared for good (session-level: it survives ROLLBACK), or not at all.
            preparing_.erase(std::find(preparing_.begin(), preparing_.end(), s.prepares));
            if (st == PGRES_COMMAND_OK) {
                prepared_.push_back(s.prepares);
            }
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED &&
            !error) {
            error = pg_error(conn_, r,
                             fmt::format("{}{} failed on {}", s.prepares.empty() ? "" : "prepare ",
                                         s.head, describe()));
            error_call = s.call;
        }
        while (PGresult* extra = next_result()) {  // NULL ends each command's results
            PQclear(extra);
        }
    }
    PGresult* sync = next_result();
    bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced || (unanswered_.empty() && PQexitPipelineMode(conn_) != 1)) {
        throw broken("finishing a pipeline");
    }
    if (error) {
        *failed = error_call;
        throw *error;
    }
}

}  // namespace rep::util
