#pragma once

#include "source/postgres/lsn.h"

#include <libpq-fe.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

struct ssl_st;  // OpenSSL's SSL

namespace rep::pg {

// One message of the streaming replication sub-protocol carried in CopyData.
struct ReplicationMessage {
    char kind = 0;                 // 'w' XLogData or 'k' primary keepalive
    Lsn wal_start;                 // 'w': WAL position of the payload
    Lsn wal_end;                   // the server's current end of WAL
    bool reply_requested = false;  // 'k': the server wants a status update now
    std::string_view payload;      // 'w': the pgoutput message; valid until the next receive()
};

struct StartOptions {
    std::string slot;
    std::string publication;
    Lsn start;              // 0/0: the slot's confirmed_flush_lsn
    int proto_version = 1;  // 2 adds streaming of in-progress transactions
    bool streaming = false;
};

// A libpq connection in logical replication mode (replication=database) running
// START_REPLICATION ... LOGICAL with pgoutput. Owns the socket; decodes only the framing
// ('w'/'k' headers), never the pgoutput payload. Not thread-safe.
class ReplicationConn {
public:
    explicit ReplicationConn(std::string conninfo) : conninfo_(std::move(conninfo)) {}
    ~ReplicationConn();
    ReplicationConn(const ReplicationConn&) = delete;
    ReplicationConn& operator=(const ReplicationConn&) = delete;

    // Throws rep::Error (retryable) if the server cannot be reached.
    void connect();
    int server_version() const;
    void start(const StartOptions& options);

    // How long receive() lets messages gather once it has read all there was, before it
    // waits for more in select(): briefly while the stream is live, so a transaction is not
    // held up; longer while it works through a backlog (set_backlogged), where each wake-up
    // then reads ten times as much. The walsender sends every message on its own as soon as
    // its socket has room, so a reader that drains it at once pays a read, a TLS record and
    // a context switch per message or few: on a 2-core machine whose system calls are dear
    // (2026-12-02, AMD EPYC, 45% kernel time in a catch-up) the long pause took the
    // replicator's CPU in a mixed catch-up down by 16 to 27% (docs/benchmarks.md).
    static constexpr std::chrono::microseconds kGatherPause{200};
    static constexpr std::chrono::microseconds kBacklogGatherPause{2000};
    // Whether the stream is working through a backlog (its transactions committed a while
    // ago): the reader's judgement, from the commit times it decodes.
    void set_backlogged(bool backlogged) { backlogged_ = backlogged; }

    // Waits up to `timeout` (plus the gather pause) for the next message; nullopt on timeout.
    // Throws rep::Error (retryable) when the stream ends or the connection drops.
    std::optional<ReplicationMessage> receive(std::chrono::milliseconds timeout);

    // Standby status update: write, flush and apply positions all set to `flushed`, the
    // position the server may forget WAL up to (confirmed_flush_lsn).
    void send_status(Lsn flushed, bool reply_requested = false);
    void close();

private:
    // True when OpenSSL holds received bytes that select() on the socket cannot see.
    bool tls_pending() const;
    void consume_input();
    // select() on the socket; false on timeout.
    bool wait_readable(std::chrono::milliseconds timeout);

    std::string conninfo_;
    PGconn* conn_ = nullptr;
    char* buf_ = nullptr;
    ssl_st* ssl_ = nullptr;  // libpq's TLS session once streaming, if the connection uses TLS
    bool backlogged_ = false;
};

// Microseconds since 2000-01-01, the clock the replication protocol uses.
int64_t pg_now_us();

}  // namespace rep::pg
