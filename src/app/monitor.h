#pragma once

#include "base/duration.h"
#include "core/progress.h"
#include "source/source.h"

#include "http/status_server.h"
#include "metrics/probe.h"
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rep::app {

struct MonitorOptions {
    std::string target_conn;
    Duration stall_timeout = std::chrono::seconds(20);
    Duration interval = std::chrono::seconds(1);
    Duration summary_period = std::chrono::seconds(10);
    // User names and hosts that /_/healthz and /_/diag replace with <hidden> (empty with
    // --diagShowHosts): those endpoints answer anyone who can reach --metricsAddr.
    std::vector<std::string> hidden_identities;
};

// Watches the pipeline from the outside, once per interval, on its own connections:
//  - the target answers SELECT 1;
//  - the source answers (Source::check, on the source's own monitor connection; it also
//    learns how far the source is, for the backlog);
//  - the replication stream is connected (from the Probe);
//  - the pipeline is not stalled: if changes were received but the confirmed position has
//    not moved for --stallTimeout, it is stalled, which is logged once as a warning.
// It answers /_/healthz, /_/diag and /_/varz, and logs a progress summary every 10 s while
// there is work (rows/s, lag, backlog, ETA).
class Monitor final : public http::StatusSource {
public:
    // `source` is called from the monitor's thread (check, backlog, positions, codec).
    Monitor(MonitorOptions options, source::Source& source, metrics::Probe& probe,
            Progress& progress, nlohmann::json config);
    ~Monitor() override;
    void start();

    std::string varz() override;
    std::pair<bool, std::string> health() override;  // the reason without identities
    std::string diag() override;
    // While not empty, this process is a standby and health says so (503, with this reason).
    void set_standby(const std::string& state);

private:
    void loop();
    void check_once();
    void summarize();
    std::pair<bool, std::string> raw_health();
    std::string position() const;

    MonitorOptions options_;
    source::Source& source_;
    metrics::Probe& probe_;
    Progress& progress_;
    nlohmann::json config_;
    std::atomic<bool> stop_{false};
    std::thread thread_;

    mutable std::mutex mu_;
    std::string source_problem_;  // empty when the source answered
    std::string target_problem_;
    std::string standby_;
    bool checked_ = false;
    bool stalled_ = false;
    Ordinal last_confirmed_;
    uint64_t last_written_ = 0;
    std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
    // For the periodic summary.
    std::chrono::steady_clock::time_point summary_at_ = std::chrono::steady_clock::now();
    uint64_t summary_rows_ = 0;
    double summary_done_ = -1;  // the backlog's `done` at the last summary (-1: none)
};

}  // namespace rep::app
