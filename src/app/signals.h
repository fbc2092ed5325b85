#pragma once

#include <atomic>

namespace rep::app {

// Set by SIGINT/SIGTERM. A second signal exits at once with status 130.
std::atomic<bool>& stop_requested();
void install_signal_handlers();

}  // namespace rep::app
