#pragma once

// Waiting out what a production replicator must ride through: a server that is down or
// restarting, a lock not yet released. Header-only: the runner and the lease's takeover use
// them.

#include "app/signals.h"
#include "base/duration.h"
#include "base/error.h"
#include "util/retry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <string>
#include <thread>

namespace rep::app {

// Sleeps up to `d`, waking early when a stop is requested.
inline void sleep_unless_stopped(Duration d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stop_requested().load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Waiting out an outage: logs the first failures, then one line every 30 s, so that a server
// that is down for minutes leaves a readable log (/_/healthz says 503 meanwhile).
class OutageLog {
public:
    // Logs `what` failed with `e`, retrying in `d`.
    void failed(const std::string& what, const Error& e, Duration d) {
        auto now = std::chrono::steady_clock::now();
        if (failures_++ == 0) {
            since_ = now;
        }
        if (failures_ <= 5 || now - last_ >= std::chrono::seconds(30)) {
            last_ = now;
            auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - since_).count();
            spdlog::warn(
                "{} failed{}, retrying in {}: {}", what,
                failures_ > 1 ? fmt::format(" ({} times in {} s)", failures_, seconds) : "",
                format_go_duration(d), e.what());
        }
    }
    void recovered(const std::string& what) {
        if (failures_ > 5) {
            spdlog::info("{} succeeded after {} failures", what, failures_);
        }
        failures_ = 0;
    }

private:
    int failures_ = 0;
    std::chrono::steady_clock::time_point since_;
    std::chrono::steady_clock::time_point last_;
};

// Runs `fn` until it succeeds. Retryable errors (an unreachable or restarting server) are
// retried for as long as they last, with backoff capped at --retryMaxBackoff: a production
// replicator rides through an outage. Fatal errors propagate, and so does any error once a
// stop is requested.
template <typename Fn>
auto with_retries(const util::RetryPolicy& policy, const char* what, Fn&& fn) {
    util::Backoff backoff(policy);
    OutageLog log;
    for (;;) {
        try {
            struct Recovered {
                OutageLog& log;
                const char* what;
                ~Recovered() {
                    if (std::uncaught_exceptions() == 0) {
                        log.recovered(what);
                    }
                }
            } recovered{log, what};
            return fn();
        } catch (const Error& e) {
            if (!e.retryable() || stop_requested().load()) {
                throw;
            }
            Duration d = backoff.next();
            log.failed(what, e, d);
            sleep_unless_stopped(d);
        }
    }
}

}  // namespace rep::app
