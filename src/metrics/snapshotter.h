#pragma once

#include "base/duration.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace rep::metrics {

// --metricsSnapshot* flags.
struct SnapshotOptions {
    Duration period{0};                                 // 0: off
    bool gzip = true;                                   // --metricsSnapshotCompression gzip|none
    Duration retention_time = std::chrono::hours(168);  // 0: no age limit
    uint64_t retention_bytes = 0;                       // 0: no size limit
    std::filesystem::path dir;                          // <dataDir>/metrics-snapshots
};

// Parses "100MB", "1GiB", "512KiB", "1000" (bytes). Decimal (kB, MB, GB, TB) and binary
// (KiB, MiB, GiB, TiB) units; case-insensitive. Returns nullopt when malformed.
std::optional<uint64_t> parse_byte_size(const std::string& text);

// Writes the metrics exposition (with timestamps) to
// <dir>/snapshot-YYYYMMDDTHHMMSS.mmmZ.txt[.gz] every period, then deletes snapshots older
// than the retention time and, oldest first, those that push the directory over the
// retention size. Runs its own thread from start() until the destructor.
class Snapshotter {
public:
    Snapshotter(SnapshotOptions options, std::function<std::string()> exposition);
    ~Snapshotter();
    void start();
    // Writes one snapshot and prunes; returns the file written. Throws rep::Error.
    std::filesystem::path write_once();
    void prune();

private:
    SnapshotOptions options_;
    std::function<std::string()> exposition_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace rep::metrics
