#pragma once

#include <chrono>
#include <cstdint>

namespace rep {

// Microseconds since the Unix epoch by this machine's clock: what source commit times are
// compared with (lag, backlog).
inline int64_t unix_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Transactions that committed on the source longer ago than this arrive from a backlog: the
// reader then lets more messages gather per wake-up (pglogical's ReplicationConn), and the
// dispatcher counts the cores as busy with catching up (sequencer/dispatcher.cc). A source
// clock that differs from ours only moves the judgement.
constexpr std::chrono::microseconds kBacklogAge{std::chrono::seconds(2)};

}  // namespace rep
