#include "app/stream_fence.h"

#include "base/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace rep::app {

int64_t stream_lock_id(const std::string& memo_key) {
    // FNV-1a, 64 bits: the same number in every process and build, unlike std::hash.
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : "replicator stream " + memo_key) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return static_cast<int64_t>(h);
}

std::string hold_stream_lock_sql(int64_t lock) {
    return fmt::format("SELECT pg_advisory_lock_shared({})", lock);
}

void wait_for_earlier_sessions(util::TargetSession& target, int64_t lock, Duration patience,
                               const std::atomic<bool>& stop) {
    // An exclusive lock is granted once no other session holds the shared one; this session's
    // own shared hold does not stand in its way. Tried, not waited for, so that a stop is
    // honoured at once and the wait stays bounded.
    std::string lock_id = std::to_string(lock);
    auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
        auto got = target.query("SELECT pg_try_advisory_lock($1::bigint)", {lock_id});
        if (!got.empty() && got[0][0] == "t") {
            target.execute("SELECT pg_advisory_unlock($1::bigint)", {lock_id});
            return;
        }
        if (stop.load()) {
            return;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            auto holders = target.query(
                "SELECT string_agg(a.pid || coalesce(' (' || a.client_addr || ', ' || a.state || "
                "')', ''), ', ') FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() AND "
                "l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint",
                {lock_id});
            std::string who = !holders.empty() && holders[0][0] ? *holders[0][0] : "?";
            throw Error(ErrorKind::kRetryable,
                        fmt::format("other target sessions of this stream are still active "
                                    "(backend {}): another replicator process of the same "
                                    "stream is running, or the backends of one that was killed "
                                    "have not finished their last transaction. The checkpoint "
                                    "is read once they have gone; stop the other process if "
                                    "there is one",
                                    who));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void end_stream_sessions(util::TargetSession& target, int64_t lock, const std::string& holder) {
    try {
        auto ended = target.query(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(l.pid)) FROM pg_locks l WHERE "
            "l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() AND "
            "l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint",
            {std::to_string(lock)});
        std::string n = !ended.empty() && ended[0][0] ? *ended[0][0] : "0";
        if (n != "0") {
            spdlog::warn("taking the stream over from {}: ended {} of its target sessions", holder,
                         n);
        }
    } catch (const Error& e) {
        spdlog::warn(
            "taking the stream over from {}: could not end its target sessions, waiting "
            "for them instead: {}",
            holder, e.what());
    }
}

}  // namespace rep::app
