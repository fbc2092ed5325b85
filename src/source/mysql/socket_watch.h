#pragma once

#include "base/duration.h"

#include <atomic>
#include <cstdint>

namespace rep::mysql {

// Bounds the blocking reads of one MySQL connection. Connector/C blocks in poll() for as long
// as a read takes, and a peer behind a network partition never answers. While armed, a
// process-wide watchdog thread shuts the socket down (shutdown(2), which wakes the blocked
// read with an error) once `limit` passes without progress, or one second after a stop
// request (util/stop_flag.h), so every wait is bounded and SIGTERM is honoured within a
// second. Arm and disarm are cheap (atomic stores) and may be called per event.
class SocketWatch {
public:
    enum class Fired : uint8_t { kNo, kDeadline, kStop };

    SocketWatch() = default;
    ~SocketWatch();
    SocketWatch(const SocketWatch&) = delete;
    SocketWatch& operator=(const SocketWatch&) = delete;

    // Starts watching `fd` (a connected socket), unarmed.
    void attach(int fd);
    // Stops watching; the watchdog no longer touches the socket.
    void detach();

    // A blocking call starts: it must make progress within `limit`.
    void arm(Duration limit);
    void disarm();

    // Whether the watchdog shut the socket down, and why.
    Fired fired() const { return fired_.load(); }
    Duration limit() const { return Duration(limit_ns_.load()); }

private:
    friend class Watchdog;
    // Called by the watchdog under its lock.
    void check(int64_t now_ns, bool stopping_for_a_second);

    int fd_ = -1;
    bool attached_ = false;
    std::atomic<bool> armed_{false};
    std::atomic<int64_t> since_ns_{0};
    std::atomic<int64_t> limit_ns_{0};
    std::atomic<Fired> fired_{Fired::kNo};
};

}  // namespace rep::mysql
