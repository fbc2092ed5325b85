#include "app/signals.h"

#include "util/stop_flag.h"

#include <csignal>
#include <unistd.h>

namespace rep::app {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
    if (g_stop.exchange(true)) {
        _exit(130);
    }
}

}  // namespace

std::atomic<bool>& stop_requested() {
    return g_stop;
}

void install_signal_handlers() {
    // Network waits end a second after a stop request instead of waiting out their deadline.
    util::set_stop_flag(&g_stop);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace rep::app
