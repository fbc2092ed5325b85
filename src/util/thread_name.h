#pragma once

#include <string_view>

namespace rep::util {

// Names the calling thread as `top -H`, `ps -L`, perf and gdb show it ("reader", "apply-3"),
// so that a profile or a stuck process says which part of the pipeline a thread is. Linux
// keeps at most 15 bytes; a longer name is cut. The main thread keeps the process's name.
void name_this_thread(std::string_view name);

}  // namespace rep::util
