#include "app/takeover.h"

#include "app/stream_fence.h"
#include "app/waiting.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::app {

std::unique_ptr<LeaseKeeper> hold_the_lease(const CommonConfig& config, staging::StreamLease& lease,
                                            util::PgConn& staging, util::PgConn& target,
                                            const target::Dialect& dialect, Monitor& monitor,
                                            source::Source& source, const std::string& key) {
    bool memo_in_target = config.staging_conn.empty() || config.staging_conn == config.target_conn;
    std::string conninfo = memo_in_target ? config.target_conn : config.staging_conn;
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.apply_timeout);
    auto keeper = std::make_unique<LeaseKeeper>(
        lease,
        [conninfo, timeout_ms, ttl = config.lease_ttl] {
            // A renewal that waits long is as good as lost (LeaseKeeper stops at half the TTL).
            auto c = std::make_unique<util::PgConn>(conninfo, "staging");
            c->set_response_timeout(std::max<Duration>(std::chrono::milliseconds(500), ttl / 4));
            c->set_connect_timeout(2);
            c->set_session_sql({"SET application_name = 'replicator'",
                                fmt::format("SET statement_timeout = {}", timeout_ms.count())});
            c->connect();
            return c;
        },
        [&monitor](const std::string& state) { monitor.set_standby(state); },
        [&](const std::string& holder) {
            // The holder's sessions of the stream (this process's own included, left behind
            // by a partition) may not commit any more: end them rather than wait for them.
            if (dialect.product() == target::TargetProduct::kPostgres) {
                if (!target.connected()) {
                    target.connect();
                }
                end_stream_sessions(target, stream_lock_id(key), holder);
            }
        });
    std::string previous;
    bool held = false;
    with_retries(config.retry, "taking the stream's lease", [&] {
        if (!staging.connected()) {
            staging.connect();
        }
        held = keeper->acquire(staging, &previous);
    });
    if (!held) {
        return nullptr;
    }
    keeper->start();
    if (!previous.empty()) {
        // The previous holder may still hold the source (a frozen process's walsender), and
        // the source moved on meanwhile: look at it again (a slot's position).
        with_retries(config.retry, "taking the stream over at the source", [&] {
            source.take_over();
            source.preflight();
        });
    }
    return keeper;
}

}  // namespace rep::app
