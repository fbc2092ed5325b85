#include "app/lease_keeper.h"

#include "app/signals.h"
#include "base/duration.h"
#include "base/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace rep::app {
namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

std::string host_name() {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) {
        return "?";
    }
    return host;
}

// The start time of process `pid` in clock ticks since boot (/proc/<pid>/stat, field 22), or
// "" if there is no such process.
std::string start_time(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!in || !std::getline(in, stat)) {
        return {};
    }
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    size_t end = stat.rfind(')');
    if (end == std::string::npos) {
        return {};
    }
    std::istringstream fields(stat.substr(end + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
    }
    return field;
}

// Sleeps up to `d`, waking early when `stop` or a requested stop is set.
void nap(Duration d, const std::atomic<bool>& stop) {
    auto until = Clock::now() + d;
    while (!stop.load() && !stop_requested().load() && Clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace

std::string lease_holder_name() {
    return fmt::format("{}:{}:{}", host_name(), getpid(), start_time(getpid()));
}

bool holder_is_gone(const std::string& holder) {
    // host:pid:start; the host may itself hold ':' (never the last two fields).
    size_t b = holder.rfind(':');
    size_t a = b == std::string::npos || b == 0 ? std::string::npos : holder.rfind(':', b - 1);
    if (a == std::string::npos || holder.substr(0, a) != host_name()) {
        return false;
    }
    pid_t pid = 0;
    try {
        pid = static_cast<pid_t>(std::stol(holder.substr(a + 1, b - a - 1)));
    } catch (const std::exception&) {
        return false;
    }
    if (pid <= 0) {
        return false;
    }
    std::string started = start_time(pid);
    return started.empty() || started != holder.substr(b + 1);
}

LeaseKeeper::LeaseKeeper(staging::StreamLease& lease,
                         std::function<std::unique_ptr<util::PgConn>()> connect,
                         std::function<void(const std::string&)> on_standby,
                         std::function<void(const std::string&)> end_sessions)
    : lease_(lease),
      connect_(std::move(connect)),
      on_standby_(std::move(on_standby)),
      end_sessions_(std::move(end_sessions)) {}

LeaseKeeper::~LeaseKeeper() {
    stop(false);
}

bool LeaseKeeper::acquire(util::TargetSession& conn, bool* waited) {
    const Duration poll = std::min<Duration>(std::chrono::seconds(1), lease_.ttl() / 5);
    std::string last_holder;
    *waited = false;
    while (!stop_requested().load()) {
        // A holder of this machine that is gone (killed with -9) need not be waited out: its
        // sessions' transactions are waited for by the takeover's row lock.
        staging::StreamLease::Attempt a = lease_.try_acquire(conn, holder_is_gone, end_sessions_);
        if (a.acquired) {
            on_standby_("");
            spdlog::info("holding the lease of stream {} (epoch {}, {} until renewed)",
                         lease_.key(), a.epoch, format_go_duration(lease_.ttl()));
            return true;
        }
        *waited = true;
        std::string state = fmt::format(
            "standby: stream {} is applied by {}; taking over if its lease, {:.1f} s from now, "
            "expires unrenewed",
            lease_.key(), a.holder, a.seconds_left);
        on_standby_(state);
        if (a.holder != last_holder) {
            spdlog::info("{}", state);
            last_holder = a.holder;
        }
        nap(poll, stop_);
    }
    return false;
}

void LeaseKeeper::start() {
    renewed_at_ = now_ns();  // acquire() just wrote the lease
    thread_ = std::thread([this] { renew_loop(); });
    watch_ = std::thread([this] { watch_loop(); });
}

void LeaseKeeper::stop(bool release) {
    stop_ = true;
    if (watch_.joinable()) {
        watch_.join();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
    if (release && lost().empty() && lease_.epoch() > 0) {
        try {
            if (!conn_ || !conn_->connected()) {
                conn_ = connect_();
            }
            lease_.release(*conn_);
            spdlog::info("gave up the lease of stream {}", lease_.key());
        } catch (const Error& e) {
            spdlog::warn(
                "could not give up the lease of stream {} (a standby takes over when it "
                "expires): {}",
                lease_.key(), e.what());
        }
    }
}

std::string LeaseKeeper::lost() const {
    std::lock_guard lock(mu_);
    return lost_;
}

void LeaseKeeper::lose(const std::string& why) {
    {
        std::lock_guard lock(mu_);
        lost_ = why;
    }
    spdlog::error("{}", why);
    stop_requested() = true;
}

void LeaseKeeper::renew_loop() {
    const Duration period = lease_.ttl() / 5;
    while (!stop_.load() && lost().empty()) {
        nap(period, stop_);
        if (stop_.load()) {
            return;
        }
        int64_t sent = now_ns();
        try {
            if (!conn_ || !conn_->connected()) {
                conn_ = connect_();
            }
            if (!lease_.renew(*conn_)) {
                lose(
                    fmt::format("another process took over the lease of stream {}; this one "
                                "stops (whatever it had not committed is applied by the other)",
                                lease_.key()));
                return;
            }
            renewed_at_ = sent;
        } catch (const Error& e) {
            {
                std::lock_guard lock(mu_);
                last_error_ = e.what();
            }
            conn_.reset();
            spdlog::warn("could not renew the lease of stream {}: {}", lease_.key(), e.what());
        }
    }
}

void LeaseKeeper::watch_loop() {
    // Past half the TTL without a renewal, a standby may soon take over: stop writing first
    // (the lease still has half its time to run when the stop begins).
    const auto limit = std::chrono::duration_cast<std::chrono::nanoseconds>(lease_.ttl() / 2);
    while (!stop_.load() && lost().empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (now_ns() - renewed_at_.load() > limit.count()) {
            std::string error;
            {
                std::lock_guard lock(mu_);
                error = last_error_.empty() ? "no answer" : last_error_;
            }
            lose(
                fmt::format("could not renew the lease of stream {} for {} ({}); this one stops "
                            "so that a standby may take over safely",
                            lease_.key(), format_go_duration(lease_.ttl() / 2), error));
            return;
        }
    }
}

}  // namespace rep::app
