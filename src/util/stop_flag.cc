#include "util/stop_flag.h"

#include <algorithm>

namespace rep::util {
namespace {

std::atomic<const std::atomic<bool>*> g_stop{nullptr};

}  // namespace

void set_stop_flag(const std::atomic<bool>* flag) {
    g_stop = flag;
}

bool stop_requested() {
    const std::atomic<bool>* stop = g_stop.load();
    return stop != nullptr && stop->load();
}

bool WaitDeadline::passed() {
    auto now = Clock::now();
    if (!stopping_ && stop_requested()) {
        stopping_ = true;
        at_ = std::min(at_, now + std::chrono::seconds(1));
    }
    return now >= at_;
}

}  // namespace rep::util
