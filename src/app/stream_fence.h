#pragma once

#include "base/duration.h"
#include "util/target_session.h"

#include <atomic>
#include <cstdint>
#include <string>

namespace rep::app {

// One stream's sessions on a PostgreSQL target hold a shared advisory lock named after the
// stream's memo key, from connect to disconnect. A process that starts waits, before it reads
// the checkpoint, until no other session holds it:
//
// A process killed with -9 leaves its target backends running until they have executed what
// they had already read from the socket: a whole pipeline, with a group's rows, its
// checkpoint and its COMMIT. Such a backend can commit after the next process has read the
// checkpoint; that process then applies the group a second time, and could have its own later
// commits overtaken by the late one (a row it deleted written again). The backend exits once
// its pipeline is done and it finds the client gone, releasing the lock, and only then is the
// checkpoint what it will stay. The same wait keeps a second process of the same stream (a
// standby started beside a running one) from applying until the first has stopped.
//
// CockroachDB has no advisory locks; there the wait is not made (docs/cockroachdb.md).

// The lock's number for the stream whose plain memo key is `memo_key`.
int64_t stream_lock_id(const std::string& memo_key);

// The statement a stream's session runs on connect to hold the lock.
std::string hold_stream_lock_sql(int64_t lock);

// Waits until no other session holds `lock`, checking every 100 ms, up to `patience`; then
// throws a retryable rep::Error naming what holds it. Returns early (without waiting the
// rest) when `stop` is set.
void wait_for_earlier_sessions(util::TargetSession& target, int64_t lock, Duration patience,
                               const std::atomic<bool>& stop);

// Ends the target sessions of this stream that another process left (holding `lock`), as a
// process taking over the stream's lease from `holder` does: their transactions may no longer
// commit, and the takeover would otherwise wait for them until the server's idle time-out.
// Logs what it did; a missing privilege (pg_terminate_backend needs the same role) is logged
// and then waited out.
void end_stream_sessions(util::TargetSession& target, int64_t lock, const std::string& holder);

}  // namespace rep::app
