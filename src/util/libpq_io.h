#pragma once

#include "base/duration.h"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rep::util {

// Waiting on libpq connections with bounds: every wait has a deadline, and a stop request
// (SIGINT/SIGTERM, util/stop_flag.h) ends it within a second, so no silent peer can hold the
// process.

// Connects in non-blocking steps (PQconnectStartParams / PQconnectPoll), waiting in short
// slices: at most the connection string's connect_timeout (10 s when it sets none), and less
// once a stop is requested. `params` are added to the connection string (which may be a URL
// or key=value text, parsed by libpq), overriding it. Unless the string sets them, the
// connection also gets TCP keepalives (idle 10 s, 3 probes 5 s apart) and a 30 s bound on
// unacknowledged sends (tcp_user_timeout), so a vanished peer is noticed. Returns the
// connection, connected or failed (PQstatus); the caller owns it.
PGconn* connect_libpq(const std::string& conninfo,
                      const std::vector<std::pair<std::string, std::string>>& params);

// Whether a failed connection attempt's message means no retry can help: authentication
// refused, a TLS certificate that does not verify, a bad connection parameter, an unknown
// database or role, no pg_hba.conf entry. Anything else (refused, unreachable, a server
// starting or shutting down, too many connections) may pass.
bool connect_error_is_permanent(std::string_view message);

// Waits until libpq can return a result without blocking (PQisBusy is false), reading as
// data arrives. Throws rep::Error (retryable) if `deadline` passes or a stop has been
// requested for a second; `what` names the peer in the message. The connection is left as
// it is: the caller drops it.
void await_result(PGconn* conn, std::chrono::steady_clock::time_point deadline,
                  const std::string& what);

// Sends what libpq holds for `conn`, which must be in non-blocking mode, reading what arrives
// meanwhile (a server blocked writing answers stops reading). A peer that stops reading
// (a partition: TCP keeps the connection alive with zero-window probes) would hold a blocking
// send for ever; this one throws rep::Error (retryable) as await_result does once `deadline`
// passes. Also throws if the connection fails.
void flush_output(PGconn* conn, std::chrono::steady_clock::time_point deadline,
                  const std::string& what);

}  // namespace rep::util
