#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rep {

using Duration = std::chrono::nanoseconds;

// Parses a duration in Go's time.ParseDuration syntax, which MOLT Replicator's flags use:
// a sequence of decimal numbers, each with an optional fraction and a unit suffix
// ("ns", "us", "µs", "ms", "s", "m", "h"), e.g. "250ms", "1m30s", "1.5h". A leading '-' or '+'
// is allowed; "0" alone needs no unit. Returns nullopt on malformed input.
std::optional<Duration> parse_go_duration(std::string_view text);

// Formats like Go's Duration.String(): "1m0s", "250ms", "24h0m0s", "0s".
std::string format_go_duration(Duration d);

}  // namespace rep
