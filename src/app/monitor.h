#pragma once

#include "base/duration.h"
#include "core/progress.h"

#include "http/status_server.h"
#include "metrics/probe.h"
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace rep {

struct MonitorOptions {
    std::string target_conn;
    // Checks the source on the monitor's own connection: "" if fine, else a one-line problem.
    std::function<std::string()> source_check;
    // Names the confirmed position in log lines ("LSN 0/1A2B", "GTID 0-1-5").
    std::function<std::string()> describe_position;
    Duration stall_timeout = std::chrono::seconds(20);
    Duration interval = std::chrono::seconds(1);
    Duration summary_period = std::chrono::seconds(10);
};

// Watches the pipeline from the outside, once per interval, on its own connections:
//  - the target answers SELECT 1;
//  - the source answers (MonitorOptions::source_check; for PostgreSQL it also reports the WAL
//    position and the slot's restart and confirmed positions: WAL retained, backlog);
//  - the replication stream is connected (from the Probe);
//  - the pipeline is not stalled: if changes were received but the confirmed position has
//    not moved for --stallTimeout, it is stalled, which is logged once as a warning.
// It answers /_/healthz, /_/diag and /_/varz, and logs a progress summary every 10 s while
// there is work (rows/s, lag, backlog, ETA).
class Monitor final : public http::StatusSource {
public:
    Monitor(MonitorOptions options, metrics::Probe& probe, Progress& progress,
            nlohmann::json config);
    ~Monitor() override;
    void start();

    std::string varz() override;
    std::pair<bool, std::string> health() override;
    std::string diag() override;

private:
    void loop();
    void check_once();
    void summarize();
    std::string position() const;

    MonitorOptions options_;
    metrics::Probe& probe_;
    Progress& progress_;
    nlohmann::json config_;
    std::atomic<bool> stop_{false};
    std::thread thread_;

    mutable std::mutex mu_;
    std::string source_problem_;  // empty when the source answered
    std::string target_problem_;
    bool checked_ = false;
    bool stalled_ = false;
    Lsn last_confirmed_;
    uint64_t last_written_ = 0;
    std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
    // For the periodic summary.
    std::chrono::steady_clock::time_point summary_at_ = std::chrono::steady_clock::now();
    uint64_t summary_rows_ = 0;
    Lsn summary_confirmed_;
};

}  // namespace rep
