#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace rep {

struct LogOptions {
    int verbosity = 0;            // 0 info, 1 (-v) debug, 2+ (-vv) trace
    std::string format = "text";  // "text" or "fluent" (one JSON object per line)
    std::string destination;      // file path; empty means stdout
};

// Installs the process-wide default logger. Throws rep::Error if the destination cannot be opened.
void init_logging(const LogOptions& options);

}  // namespace rep
