#pragma once

#include <atomic>
#include <chrono>

namespace rep::util {

// The process's stop request (SIGINT/SIGTERM, set by app/signals) as the network waits see
// it: every wait on a socket has a deadline, and a stop request brings that deadline forward
// to one second later, so no silent peer can hold the process.

// The flag a stop request sets; without one, only deadlines end waits.
void set_stop_flag(const std::atomic<bool>* flag);
bool stop_requested();

// A wait's deadline, brought forward to a second after a stop request is first seen.
class WaitDeadline {
public:
    using Clock = std::chrono::steady_clock;
    explicit WaitDeadline(Clock::time_point at) : at_(at) {}
    // Whether the wait should end now. Call it at least every 100 ms.
    bool passed();
    // Whether it ended (or will end) because of a stop request.
    bool stopping() const { return stopping_; }

private:
    Clock::time_point at_;
    bool stopping_ = false;
};

}  // namespace rep::util
