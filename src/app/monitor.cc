#include "app/monitor.h"

#include "base/conninfo.h"
#include "base/error.h"
#include "base/log.h"
#include "base/version.h"
#include "util/pg_conn.h"
#include "util/thread_name.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace rep::app {

Monitor::Monitor(MonitorOptions options, source::Source& source, metrics::Probe& probe,
                 Progress& progress, nlohmann::json config)
    : options_(std::move(options)),
      source_(source),
      probe_(probe),
      progress_(progress),
      config_(std::move(config)) {}

Monitor::~Monitor() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Monitor::start() {
    thread_ = std::thread([this] {
        util::name_this_thread("monitor");
        loop();
    });
}

void Monitor::loop() {
    util::PgConn target(options_.target_conn, "target");
    target.set_connect_timeout(3);
    target.set_response_timeout(std::chrono::seconds(10));
    target.set_session_sql(
        {"SET application_name = 'replicator-monitor'", "SET statement_timeout = 3000"});
    auto next = std::chrono::steady_clock::now();
    while (!stop_.load()) {
        if (std::chrono::steady_clock::now() < next) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        next = std::chrono::steady_clock::now() + options_.interval;
        std::string target_problem;
        try {
            target.exec("SELECT 1");
        } catch (const Error& e) {
            target.close();
            target_problem = std::string("target unreachable: ") + e.what();
        }
        std::string source_problem = source_.check();
        probe_.set_confirmed(progress_.ordinal());
        probe_.tick();
        {
            std::lock_guard lock(mu_);
            source_problem_ = source_problem;
            target_problem_ = target_problem;
            checked_ = true;
        }
        check_once();
        summarize();
    }
}

void Monitor::check_once() {
    auto now = std::chrono::steady_clock::now();
    Ordinal confirmed = progress_.ordinal();
    uint64_t written = probe_.rows_written();
    bool pending = probe_.received() > confirmed || probe_.queue_weight() > 0;
    std::lock_guard lock(mu_);
    // Progress is a new confirmed position or rows written (a large transaction applies for a
    // long time before its commit moves the position).
    if (confirmed != last_confirmed_ || written != last_written_ || !pending) {
        last_confirmed_ = confirmed;
        last_written_ = written;
        last_progress_ = now;
        if (stalled_) {
            spdlog::info("replication is progressing again at {}", position());
        }
        stalled_ = false;
        return;
    }
    if (!stalled_ && now - last_progress_ >= options_.stall_timeout) {
        stalled_ = true;
        spdlog::warn(
            "replication stalled: changes up to {} were received but nothing was applied for "
            "{} (confirmed {}){}{}",
            source_.codec().describe_ordinal(probe_.received()),
            format_go_duration(options_.stall_timeout), position(),
            target_problem_.empty() ? "" : "; " + target_problem_,
            source_problem_.empty() ? "" : "; " + source_problem_);
    }
}

void Monitor::summarize() {
    auto now = std::chrono::steady_clock::now();
    if (now - summary_at_ < options_.summary_period) {
        return;
    }
    double secs = std::chrono::duration<double>(now - summary_at_).count();
    uint64_t rows = probe_.rows_applied();
    double rate = static_cast<double>(rows - summary_rows_) / secs;
    std::optional<source::Backlog> backlog = source_.backlog(progress_);
    if (rows != summary_rows_ || (backlog && backlog->remaining > 0)) {
        std::string behind = "backlog unknown";
        if (backlog) {
            double done_rate =
                summary_done_ < 0 ? 0 : std::max(0.0, backlog->done - summary_done_) / secs;
            behind = fmt::format("backlog {:.0f} {}, {}", backlog->remaining, backlog->unit,
                                 backlog->remaining <= 0 ? "caught up"
                                 : done_rate > 0
                                     ? fmt::format("ETA {:.0f}s", backlog->remaining / done_rate)
                                     : "ETA unknown");
        }
        spdlog::info(
            "progress: {} rows applied ({:.0f} rows/s), confirmed {}, source lag {:.1f}s, {}",
            rows - summary_rows_, rate, position(), probe_.source_lag_seconds(), behind);
    }
    summary_at_ = now;
    summary_rows_ = rows;
    summary_done_ = backlog ? backlog->done : -1;
}

std::string Monitor::position() const {
    return source_.codec().describe(progress_.get());
}

std::string Monitor::varz() {
    return probe_.exposition();
}

void Monitor::set_standby(const std::string& state) {
    std::lock_guard lock(mu_);
    standby_ = state;
}

std::pair<bool, std::string> Monitor::health() {
    auto [ok, reason] = raw_health();
    return {ok, hide_identities(reason, options_.hidden_identities)};
}

std::pair<bool, std::string> Monitor::raw_health() {
    std::lock_guard lock(mu_);
    if (!standby_.empty()) {
        return {false, standby_};
    }
    if (!checked_) {
        return {false, "starting: the first health check has not run yet"};
    }
    if (!target_problem_.empty()) {
        return {false, target_problem_};
    }
    if (!source_problem_.empty()) {
        return {false, source_problem_};
    }
    if (!probe_.is_source_connected()) {
        return {false, "the replication stream from the source is not connected"};
    }
    if (stalled_) {
        return {false, fmt::format("stalled: nothing applied for over {} while changes are waiting "
                                   "(confirmed {})",
                                   format_go_duration(options_.stall_timeout), position())};
    }
    return {true, ""};
}

namespace {

void hide_in(nlohmann::json& j, const std::vector<std::string>& identities) {
    if (identities.empty()) {
        return;
    }
    if (j.is_string()) {
        j = hide_identities(j.get<std::string>(), identities);
    } else if (j.is_structured()) {
        for (auto& child : j) {
            hide_in(child, identities);
        }
    }
}

}  // namespace

std::string Monitor::diag() {
    nlohmann::json j;
    j["version"] = kVersion;
    j["config"] = config_;
    auto [ok, reason] = raw_health();
    j["health"] = {{"ok", ok}, {"reason", reason}};
    nlohmann::json positions = source_.positions(progress_, probe_);
    positions["confirmed"] = position();
    j["positions"] = positions;
    j["lag"] = {{"source_lag_seconds", probe_.source_lag_seconds()},
                {"seconds_since_last_apply", probe_.seconds_since_last_apply()},
                {"queued_row_changes", probe_.queue_weight()}};
    nlohmann::json tables = nlohmann::json::object();
    for (const auto& [name, c] : probe_.table_counts()) {
        tables[name] = {{"upserts", c.upserts}, {"deletes", c.deletes}, {"errors", c.errors}};
    }
    j["tables"] = tables;
    nlohmann::json recent = nlohmann::json::array();
    for (const auto& r : recent_problems()) {
        recent.push_back({{"time", r.time}, {"level", r.level}, {"message", r.message}});
    }
    j["recent_errors"] = recent;
    hide_in(j, options_.hidden_identities);
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace rep::app
