#include "app/lease_keeper.h"

#include "app/signals.h"
#include "base/duration.h"
#include "base/error.h"
#include "util/thread_name.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

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

// Which processes this one can see by pid: the kernel's boot and the pid namespace. Two
// containers of one host name see different processes under the same pid; they differ here.
std::string pid_scope() {
    std::ifstream boot("/proc/sys/kernel/random/boot_id");
    std::string boot_id;
    std::getline(boot, boot_id);
    struct stat ns {};
    if (boot_id.empty() || stat("/proc/self/ns/pid", &ns) != 0) {
        return "?";
    }
    return fmt::format("{}-{}", boot_id.substr(0, 8), ns.st_ino);
}

// The start time of process `pid` in clock ticks since boot (/proc/<pid>/stat, field 22), or
// "" if it cannot be read.
std::string start_time(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat_line;
    if (!in || !std::getline(in, stat_line)) {
        return {};
    }
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    size_t end = stat_line.rfind(')');
    if (end == std::string::npos || end + 2 > stat_line.size()) {
        return {};
    }
    std::istringstream fields(stat_line.substr(end + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
    }
    return field;
}

// Splits "a:b:c:d" from the right into its last `n` fields and the rest (first).
std::vector<std::string> split_right(const std::string& s, size_t n) {
    std::vector<std::string> out;
    std::string rest = s;
    for (size_t i = 0; i < n; ++i) {
        size_t colon = rest.rfind(':');
        if (colon == std::string::npos) {
            return {};
        }
        out.insert(out.begin(), rest.substr(colon + 1));
        rest.resize(colon);
    }
    out.insert(out.begin(), rest);
    return out;
}

// Sleeps up to `d`, waking early when `stop` is set, or a stop is requested if `or_request`.
void nap(Duration d, const std::atomic<bool>& stop, bool or_request) {
    auto until = Clock::now() + d;
    while (!stop.load() && !(or_request && stop_requested().load()) && Clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace

std::string lease_holder_name() {
    return fmt::format("{}:{}:{}:{}", host_name(), pid_scope(), getpid(), start_time(getpid()));
}

bool holder_is_gone(const std::string& holder) {
    // host:scope:pid:start. Gone only when sure: same host and pid scope, and the pid is
    // free (ESRCH) or belongs to a process started at another time.
    std::vector<std::string> f = split_right(holder, 3);
    if (f.size() != 4 || f[0] != host_name() || f[1] != pid_scope() || f[1] == "?" ||
        f[3].empty() || start_time(getpid()).empty()) {
        return false;
    }
    pid_t pid = 0;
    try {
        size_t used = 0;
        pid = static_cast<pid_t>(std::stol(f[2], &used));
        if (used != f[2].size()) {
            return false;
        }
    } catch (const std::exception&) {
        return false;
    }
    if (pid <= 0) {
        return false;
    }
    if (kill(pid, 0) != 0) {
        return errno == ESRCH;
    }
    std::string started = start_time(pid);
    return !started.empty() && started != f[3];
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

bool LeaseKeeper::acquire(util::TargetSession& conn, std::string* previous) {
    const Duration poll = std::min<Duration>(std::chrono::seconds(1), lease_.ttl() / 5);
    std::string last_holder;
    previous->clear();
    while (!stop_requested().load()) {
        // A holder of this machine that is gone (killed with -9) need not be waited out: its
        // sessions' transactions are waited for by the takeover's row lock.
        staging::StreamLease::Attempt a = lease_.try_acquire(conn, holder_is_gone, end_sessions_);
        if (a.acquired) {
            *previous = a.previous;
            on_standby_("");
            spdlog::info("holding the lease of stream {} (epoch {}, {} until renewed)",
                         lease_.key(), a.epoch, format_go_duration(lease_.ttl()));
            return true;
        }
        std::string state = fmt::format(
            "standby: stream {} is applied by {}; taking over if its lease, {:.1f} s from now, "
            "expires unrenewed",
            lease_.key(), a.holder, a.seconds_left);
        on_standby_(state);
        if (a.holder != last_holder) {
            spdlog::info("{}", state);
            last_holder = a.holder;
        }
        nap(poll, stop_, /*or_request=*/true);
    }
    return false;
}

void LeaseKeeper::start() {
    renewed_at_ = now_ns();  // acquire() just wrote the lease
    thread_ = std::thread([this] {
        util::name_this_thread("lease-renew");
        renew_loop();
    });
    watch_ = std::thread([this] {
        util::name_this_thread("lease-watch");
        watch_loop();
    });
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
    revoked_ = true;
    {
        std::lock_guard lock(mu_);
        lost_ = why;
    }
    spdlog::error("{}", why);
}

void LeaseKeeper::renew_loop() {
    const Duration period = lease_.ttl() / 5;
    while (!stop_.load() && lost().empty()) {
        // Renewals go on while the pipeline drains after a stop request, until stop().
        nap(period, stop_, /*or_request=*/false);
        if (stop_.load()) {
            return;
        }
        int64_t sent = now_ns();
        try {
            if (!conn_ || !conn_->connected()) {
                conn_ = connect_();
            }
            if (!lease_.renew(*conn_)) {
                lose(fmt::format("another process took over the lease of stream {}", lease_.key()));
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
                fmt::format("could not renew the lease of stream {} for {} ({}), so a standby "
                            "may take over",
                            lease_.key(), format_go_duration(lease_.ttl() / 2), error));
            return;
        }
    }
}

}  // namespace rep::app
