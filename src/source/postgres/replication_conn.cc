#include "source/postgres/replication_conn.h"

#include "base/conninfo.h"
#include "base/error.h"
#include "core/table_name.h"
#include "util/libpq_io.h"
#include "util/pg_conn.h"

#include <fmt/format.h>

#include <openssl/ssl.h>
#include <sys/select.h>
#include <thread>

namespace rep::pg {
namespace {

uint64_t read_be64(const char* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | static_cast<uint8_t>(p[i]);
    }
    return v;
}

void write_be64(char* p, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
}

std::string quote_literal(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += '\'';
        }
        out += c;
    }
    return out + "'";
}

// Session settings that make every value's text form unambiguous and exact.
constexpr const char* kValueOptions =
    "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c bytea_output=hex "
    "-c lc_monetary=C -c TimeZone=UTC";

}  // namespace

int64_t pg_now_us() {
    int64_t unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    return unix_us - 946684800LL * 1000000LL;
}

ReplicationConn::~ReplicationConn() {
    close();
}

void ReplicationConn::close() {
    if (buf_ != nullptr) {
        PQfreemem(buf_);
        buf_ = nullptr;
    }
    if (conn_ != nullptr) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
    ssl_ = nullptr;
}

void ReplicationConn::connect() {
    close();
    // Keyword arrays let us add replication=database whatever form the user's string has;
    // expand_dbname makes libpq parse `dbname` as the full URL or key=value string.
    //
    // pgoutput renders every value with the walsender's session settings, which the source
    // database or role may set to anything (a DMY date style, 15 float digits, escaped bytea,
    // SQL-standard intervals, a local currency format). Pin the ones that decide a value's
    // text form, as PostgreSQL's own subscriber does, after any options the user gave, and
    // have the server convert text to UTF-8, which the target session declares.
    std::string options = conninfo_value(conninfo_, "options") + " " + kValueOptions;
    conn_ = util::connect_libpq(conninfo_, {{"replication", "database"},
                                            {"application_name", "replicator"},
                                            {"client_encoding", "UTF8"},
                                            {"options", options}});
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(conn_);
        while (!msg.empty() && msg.back() == '\n') {
            msg.pop_back();
        }
        close();
        throw Error(
            util::connect_error_is_permanent(msg) ? ErrorKind::kFatal : ErrorKind::kRetryable,
            fmt::format("cannot open a replication connection to source {}: {}",
                        redact_conninfo(conninfo_), msg));
    }
}

int ReplicationConn::server_version() const {
    return conn_ != nullptr ? PQserverVersion(conn_) : 0;
}

void ReplicationConn::start(const StartOptions& o) {
    std::string sql = fmt::format(
        "START_REPLICATION SLOT {} LOGICAL {} (proto_version '{}', publication_names {}{})",
        quote_ident(o.slot), o.start.str(), o.proto_version,
        quote_literal(quote_ident(o.publication)), o.streaming ? ", streaming 'on'" : "");
    if (PQsendQuery(conn_, sql.c_str()) != 1) {
        throw util::pg_error(conn_, nullptr,
                             "START_REPLICATION on source " + redact_conninfo(conninfo_));
    }
    util::await_result(conn_, std::chrono::steady_clock::now() + std::chrono::seconds(60),
                       "the source (START_REPLICATION)");
    util::PgResult r(PQgetResult(conn_));
    if (PQresultStatus(r.get()) != PGRES_COPY_BOTH) {
        throw util::pg_error(conn_, r.get(),
                             "START_REPLICATION on source " + redact_conninfo(conninfo_));
    }
    // The walsender flushes after every message, so over TLS each message is its own record,
    // and OpenSSL by default reads a record with two recv() calls (header, then body). With
    // read-ahead it fills its buffer in one call and serves the following records from memory.
    // OpenSSL then holds bytes that select() cannot see: receive() checks tls_pending() before
    // every wait, and libpq's own blocking waits (which cannot tell) are not used from here on.
    ssl_ = static_cast<SSL*>(PQsslStruct(conn_, "OpenSSL"));
    if (ssl_ != nullptr) {
        SSL_set_read_ahead(ssl_, 1);
    }
}

bool ReplicationConn::tls_pending() const {
    return ssl_ != nullptr && SSL_has_pending(ssl_) == 1;
}

void ReplicationConn::consume_input() {
    if (PQconsumeInput(conn_) == 0) {
        throw util::pg_error(conn_, nullptr, "replication stream from source");
    }
}

bool ReplicationConn::wait_readable(std::chrono::milliseconds timeout) {
    int fd = PQsocket(conn_);
    fd_set rfds;
    FD_ZERO(&rfds);
    FD_SET(fd, &rfds);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    int ready = select(fd + 1, &rfds, nullptr, nullptr, &tv);
    if (ready < 0 && errno != EINTR) {
        throw Error(ErrorKind::kRetryable, "replication socket select() failed");
    }
    return ready > 0;
}

std::optional<ReplicationMessage> ReplicationConn::receive(std::chrono::milliseconds timeout) {
    if (buf_ != nullptr) {
        PQfreemem(buf_);
        buf_ = nullptr;
    }
    // In a catch-up the next message is nearly always already in the socket (or, with TLS, in
    // OpenSSL's buffer), so read before sleeping in select(): one system call per read instead
    // of two. select() is only reached when a read brought nothing.
    bool read_once = false;
    bool gathered = false;
    bool waited = false;
    for (;;) {
        int len = PQgetCopyData(conn_, &buf_, 1);
        if (len == 0) {
            if (!read_once || tls_pending()) {
                read_once = true;
                consume_input();
                continue;
            }
            if (!gathered) {
                // Drained. When the reader keeps up with a busy walsender, select() would wake
                // it for every message as it arrives (a context switch per message, which
                // made the reader's thread the costliest in a profile of a catch-up whose
                // target took the CPU from the walsender). A short pause first lets messages
                // gather, so one wake-up reads many. It delays a message by about
                // the pause at most, and nothing when the stream is idle (the pause is over long
                // before select() waits for the next message).
                gathered = true;
                std::this_thread::sleep_for(backlogged_ ? kBacklogGatherPause : kGatherPause);
                consume_input();
                continue;
            }
            if (waited) {
                return std::nullopt;
            }
            waited = true;
            if (!wait_readable(timeout)) {
                return std::nullopt;
            }
            consume_input();
            continue;
        }
        if (len == -1) {
            // The stream ended; fetch the reason without libpq's blocking wait, which cannot
            // see bytes OpenSSL has read ahead.
            for (int quiet = 0; PQisBusy(conn_) == 1 && quiet < 30; consume_input()) {
                if (!tls_pending() && !wait_readable(std::chrono::milliseconds(1000))) {
                    ++quiet;
                }
            }
            util::PgResult r(PQgetResult(conn_));
            if (r && PQresultStatus(r.get()) == PGRES_FATAL_ERROR) {
                throw util::pg_error(conn_, r.get(), "replication stream from source");
            }
            throw Error(ErrorKind::kRetryable, "the source ended the replication stream");
        }
        if (len == -2) {
            throw util::pg_error(conn_, nullptr, "replication stream from source");
        }
        ReplicationMessage m;
        m.kind = buf_[0];
        if (m.kind == 'w' && len >= 25) {
            m.wal_start = Lsn(read_be64(buf_ + 1));
            m.wal_end = Lsn(read_be64(buf_ + 9));
            m.payload = std::string_view(buf_ + 25, static_cast<size_t>(len - 25));
        } else if (m.kind == 'k' && len >= 18) {
            m.wal_end = Lsn(read_be64(buf_ + 1));
            m.reply_requested = buf_[17] != 0;
        } else {
            throw fatal(
                fmt::format("unexpected replication message '{}' of {} bytes", m.kind, len));
        }
        return m;
    }
}

void ReplicationConn::send_status(Lsn flushed, bool reply_requested) {
    char msg[34];
    msg[0] = 'r';
    write_be64(msg + 1, flushed.value());
    write_be64(msg + 9, flushed.value());
    write_be64(msg + 17, flushed.value());
    write_be64(msg + 25, static_cast<uint64_t>(pg_now_us()));
    msg[33] = reply_requested ? 1 : 0;
    if (PQputCopyData(conn_, msg, sizeof msg) != 1 || PQflush(conn_) != 0) {
        throw util::pg_error(conn_, nullptr, "sending standby status update to source");
    }
}

}  // namespace rep::pg
