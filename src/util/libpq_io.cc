#include "util/libpq_io.h"

#include "base/conninfo.h"
#include "base/error.h"
#include "util/stop_flag.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <sys/select.h>

namespace rep::util {
namespace {

using Clock = std::chrono::steady_clock;
using Deadline = WaitDeadline;

// Waits up to 100 ms for the socket; true if it is ready.
bool wait_socket(int fd, bool for_write) {
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    timeval tv{0, 100000};
    int ready =
        select(fd + 1, for_write ? nullptr : &fds, for_write ? &fds : nullptr, nullptr, &tv);
    if (ready < 0 && errno != EINTR) {
        throw Error(ErrorKind::kRetryable, "select() on a database socket failed");
    }
    return ready > 0;
}

// Waits up to 100 ms until the socket can be read or written; sets which.
void wait_either(int fd, bool* readable, bool* writable) {
    fd_set rd;
    fd_set wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(fd, &rd);
    FD_SET(fd, &wr);
    timeval tv{0, 100000};
    int ready = select(fd + 1, &rd, &wr, nullptr, &tv);
    if (ready < 0 && errno != EINTR) {
        throw Error(ErrorKind::kRetryable, "select() on a database socket failed");
    }
    *readable = ready > 0 && FD_ISSET(fd, &rd);
    *writable = ready > 0 && FD_ISSET(fd, &wr);
}

Error gave_up(const Deadline& deadline, const std::string& what) {
    return Error(ErrorKind::kRetryable,
                 deadline.stopping()
                     ? fmt::format("stopping: gave up waiting for {}", what)
                     : fmt::format("no answer from {} in time; dropping the connection", what));
}

}  // namespace

PGconn* connect_libpq(const std::string& conninfo,
                      const std::vector<std::pair<std::string, std::string>>& params) {
    std::vector<std::pair<std::string, std::string>> all = {{"dbname", conninfo}};
    auto set_default = [&](const char* key, const char* value) {
        if (conninfo_value(conninfo, key).empty()) {
            all.emplace_back(key, value);
        }
    };
    set_default("keepalives", "1");
    set_default("keepalives_idle", "10");
    set_default("keepalives_interval", "5");
    set_default("keepalives_count", "3");
    set_default("tcp_user_timeout", "30000");
    all.insert(all.end(), params.begin(), params.end());
    std::vector<const char*> keys;
    std::vector<const char*> vals;
    for (const auto& [k, v] : all) {
        keys.push_back(k.c_str());
        vals.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    vals.push_back(nullptr);
    std::string timeout = conninfo_value(conninfo, "connect_timeout");
    for (const auto& [k, v] : params) {
        if (k == "connect_timeout") {
            timeout = v;
        }
    }
    int seconds = 10;
    try {
        seconds = timeout.empty() ? 10 : std::max(2, std::stoi(timeout));
    } catch (const std::exception&) {
        // libpq reports the bad value itself.
    }
    PGconn* conn = PQconnectStartParams(keys.data(), vals.data(), /*expand_dbname=*/1);
    if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) {
        return conn;
    }
    Deadline deadline(Clock::now() + std::chrono::seconds(seconds));
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK && poll != PGRES_POLLING_FAILED) {
        if (deadline.passed()) {
            PQfinish(conn);
            throw Error(ErrorKind::kRetryable,
                        deadline.stopping() ? fmt::format("stopping: gave up connecting to {}",
                                                          redact_conninfo(conninfo))
                                            : fmt::format("timed out after {} s connecting to {} "
                                                          "(connect_timeout)",
                                                          seconds, redact_conninfo(conninfo)));
        }
        if (wait_socket(PQsocket(conn), poll == PGRES_POLLING_WRITING)) {
            poll = PQconnectPoll(conn);
        }
    }
    return conn;
}

bool connect_error_is_permanent(std::string_view message) {
    static const char* kPermanent[] = {
        "password authentication failed",
        "authentication failed",
        "no password supplied",
        "password is required",
        "does not exist",  // database "x" / role "x" does not exist
        "no pg_hba.conf entry",
        "pg_hba.conf rejects",
        "certificate verify failed",
        "does not match host name",
        "root certificate file",
        "could not read certificate",
        "could not load private key",
        "certificate present, but not private key",
        "invalid sslmode",
        "invalid connection option",
        "invalid URI",
        "invalid integer value",
        "invalid value for parameter",
        "invalid port number",
        "unrecognized configuration parameter",
        "must be superuser or replication role",
        "permission denied for database",
        "server does not support SSL, but SSL was required",
    };
    for (const char* p : kPermanent) {
        if (message.find(p) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

void await_result(PGconn* conn, Clock::time_point at, const std::string& what) {
    Deadline deadline(at);
    while (PQisBusy(conn) == 1) {
        if (deadline.passed()) {
            throw gave_up(deadline, what);
        }
        if (wait_socket(PQsocket(conn), false) && PQconsumeInput(conn) == 0) {
            return;  // the connection failed: PQgetResult reports it
        }
    }
}

void flush_output(PGconn* conn, Clock::time_point at, const std::string& what) {
    Deadline deadline(at);
    for (;;) {
        int left = PQflush(conn);
        if (left == 0) {
            return;
        }
        if (left < 0) {
            throw Error(ErrorKind::kRetryable, fmt::format("could not send to {}", what));
        }
        if (deadline.passed()) {
            throw gave_up(deadline, what);
        }
        bool readable = false;
        bool writable = false;
        wait_either(PQsocket(conn), &readable, &writable);
        if (readable && PQconsumeInput(conn) == 0) {
            throw Error(ErrorKind::kRetryable, fmt::format("could not send to {}", what));
        }
    }
}

}  // namespace rep::util
