#include "base/log.h"

#include "base/error.h"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>

namespace rep {
namespace {

std::string utc_stamp(std::chrono::system_clock::time_point t);

// Formats each record as one JSON object, the "fluent" format MOLT Replicator offers for log
// shippers: {"time":"...","level":"info","msg":"..."}.
class FluentFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch())
                      .count();
        std::time_t secs = static_cast<std::time_t>(us / 1000000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        nlohmann::json j;
        j["time"] = fmt::format("{}.{:06}Z", stamp, us % 1000000);
        j["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                 spdlog::level::to_string_view(msg.level).size());
        j["msg"] = std::string(msg.payload.data(), msg.payload.size());
        std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(line.data(), line.data() + line.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<FluentFormatter>();
    }
};

std::string utc_stamp(std::chrono::system_clock::time_point t) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:06}Z", stamp, us % 1000000);
}

std::array<std::atomic<uint64_t>, kLogLevels.size()> g_log_counts{};

// Keeps the last warnings and errors in memory for /_/diag, and counts every record by level.
class RecentProblemsSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::vector<LogRecord> snapshot() {
        std::lock_guard lock(mutex_);
        return {records_.begin(), records_.end()};
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        auto index = static_cast<size_t>(msg.level);
        if (index < g_log_counts.size()) {
            ++g_log_counts[index];
        }
        if (msg.level < spdlog::level::warn) {
            return;
        }
        auto level = spdlog::level::to_string_view(msg.level);
        records_.push_back({utc_stamp(msg.time), std::string(level.data(), level.size()),
                            std::string(msg.payload.data(), msg.payload.size())});
        if (records_.size() > 50) {
            records_.pop_front();
        }
    }
    void flush_() override {}

private:
    std::deque<LogRecord> records_;
};

std::shared_ptr<RecentProblemsSink>& recent_sink() {
    static auto sink = std::make_shared<RecentProblemsSink>();
    return sink;
}

}  // namespace

std::vector<LogRecord> recent_problems() {
    return recent_sink()->snapshot();
}

std::array<uint64_t, kLogLevels.size()> log_message_counts() {
    std::array<uint64_t, kLogLevels.size()> counts{};
    for (size_t i = 0; i < counts.size(); ++i) {
        counts[i] = g_log_counts[i].load();
    }
    return counts;
}

void init_logging(const LogOptions& options) {
    spdlog::sink_ptr sink;
    if (options.destination.empty()) {
        sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else {
        try {
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.destination);
        } catch (const spdlog::spdlog_ex& e) {
            throw fatal("--logDestination " + options.destination + ": " + e.what());
        }
    }
    if (options.format == "fluent") {
        sink->set_formatter(std::make_unique<FluentFormatter>());
    } else {
        sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "%Y-%m-%d %H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc));
    }
    auto logger = std::make_shared<spdlog::logger>("replicator",
                                                   spdlog::sinks_init_list{sink, recent_sink()});
    logger->set_level(options.verbosity >= 2   ? spdlog::level::trace
                      : options.verbosity == 1 ? spdlog::level::debug
                                               : spdlog::level::info);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

}  // namespace rep
