#include "source/mysql/socket_watch.h"

#include "util/stop_flag.h"
#include "util/thread_name.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace rep::mysql {

namespace {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// One thread for every watched connection of the process, waking every 100 ms while any is
// attached.
class Watchdog {
public:
    static Watchdog& instance() {
        static Watchdog dog;
        return dog;
    }

    void add(SocketWatch* w) {
        std::lock_guard lock(mu_);
        watched_.insert(w);
        if (!thread_.joinable()) {
            thread_ = std::thread([this] {
                util::name_this_thread("socket-watch");
                loop();
            });
        }
        cv_.notify_all();
    }
    void remove(SocketWatch* w) {
        std::lock_guard lock(mu_);
        watched_.erase(w);
    }

    ~Watchdog() {
        {
            std::lock_guard lock(mu_);
            quit_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    void loop() {
        std::unique_lock lock(mu_);
        int64_t stop_seen = 0;
        while (!quit_) {
            cv_.wait_for(lock, std::chrono::milliseconds(100),
                         [&] { return quit_ || watched_.empty(); });
            if (quit_) {
                break;
            }
            if (watched_.empty()) {
                cv_.wait(lock, [&] { return quit_ || !watched_.empty(); });
                continue;
            }
            int64_t now = now_ns();
            if (util::stop_requested() && stop_seen == 0) {
                stop_seen = now;
            }
            bool stopping = stop_seen != 0 && now - stop_seen >= 1'000'000'000;
            for (SocketWatch* w : watched_) {
                w->check(now, stopping);
            }
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::set<SocketWatch*> watched_;
    std::thread thread_;
    bool quit_ = false;
};

SocketWatch::~SocketWatch() {
    detach();
}

void SocketWatch::attach(int fd) {
    detach();
    // A descriptor of our own for the same socket: Connector/C closes its descriptor on a
    // read error, and the number may then be reused by another connection before we detach;
    // ours keeps naming this socket, and shutdown(2) on it still wakes the blocked read.
    fd_ = ::dup(fd);
    if (fd_ < 0) {
        return;  // not watched: reads are then bounded by TCP keepalive alone
    }
    armed_ = false;
    fired_ = Fired::kNo;
    attached_ = true;
    Watchdog::instance().add(this);
}

void SocketWatch::detach() {
    if (attached_) {
        Watchdog::instance().remove(this);  // after this the watchdog no longer uses fd_
        attached_ = false;
        ::close(fd_);
        fd_ = -1;
    }
}

void SocketWatch::arm(Duration limit) {
    limit_ns_.store(limit.count());
    since_ns_.store(now_ns());
    armed_.store(true);
}

void SocketWatch::disarm() {
    armed_.store(false);
}

void SocketWatch::check(int64_t now, bool stopping_for_a_second) {
    if (!armed_.load() || fired_.load() != Fired::kNo) {
        return;
    }
    Fired why = Fired::kNo;
    if (stopping_for_a_second) {
        why = Fired::kStop;
    } else if (now - since_ns_.load() >= limit_ns_.load()) {
        why = Fired::kDeadline;
    }
    if (why != Fired::kNo) {
        fired_.store(why);
        ::shutdown(fd_, SHUT_RDWR);
    }
}

}  // namespace rep::mysql
