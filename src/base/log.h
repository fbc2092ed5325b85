#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace rep {

struct LogOptions {
    int verbosity = 0;            // 0 info, 1 (-v) debug, 2+ (-vv) trace
    std::string format = "text";  // "text" or "fluent" (one JSON object per line)
    std::string destination;      // file path; empty means stdout
};

// Installs the process-wide default logger. Throws rep::Error if the destination cannot be opened.
void init_logging(const LogOptions& options);

// The most recent warnings and errors (at most 50), oldest first, for diagnostics.
struct LogRecord {
    std::string time;  // UTC, RFC 3339
    std::string level;
    std::string message;
};
std::vector<LogRecord> recent_problems();

// How many records were written at each level since start (log_message_count{level}), in
// the order of kLogLevels (spdlog's level order). Records below the -v level are not written
// and not counted.
inline constexpr std::array<const char*, 6> kLogLevels = {"trace",   "debug", "info",
                                                          "warning", "error", "critical"};
std::array<uint64_t, kLogLevels.size()> log_message_counts();

}  // namespace rep
