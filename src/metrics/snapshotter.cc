#include "metrics/snapshotter.h"

#include "base/error.h"
#include "util/thread_name.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <vector>
#include <zlib.h>

namespace rep::metrics {

std::optional<uint64_t> parse_byte_size(const std::string& text) {
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
        ++i;
    }
    if (i == 0 || i > 18) {
        return std::nullopt;  // no digits, or more than fit without overflow
    }
    uint64_t n = std::stoull(text.substr(0, i));
    std::string unit;
    for (char c : text.substr(i)) {
        if (c != ' ') {
            unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    static const std::pair<const char*, uint64_t> kUnits[] = {{"", 1},
                                                              {"b", 1},
                                                              {"kb", 1000},
                                                              {"mb", 1000000},
                                                              {"gb", 1000000000},
                                                              {"tb", 1000000000000},
                                                              {"kib", 1 << 10},
                                                              {"mib", 1ULL << 20},
                                                              {"gib", 1ULL << 30},
                                                              {"tib", 1ULL << 40},
                                                              {"k", 1000},
                                                              {"m", 1000000},
                                                              {"g", 1000000000}};
    for (const auto& [name, mult] : kUnits) {
        if (unit == name) {
            if (mult != 0 && n > UINT64_MAX / mult) {
                return std::nullopt;
            }
            return n * mult;
        }
    }
    return std::nullopt;
}

Snapshotter::Snapshotter(SnapshotOptions options, std::function<std::string()> exposition)
    : options_(std::move(options)), exposition_(std::move(exposition)) {}

Snapshotter::~Snapshotter() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Snapshotter::start() {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) {
        throw fatal(fmt::format("cannot create metrics snapshot directory {}: {} (set --dataDir)",
                                options_.dir.string(), ec.message()));
    }
    spdlog::info("metrics snapshotter started, writing to {} every {}, retaining {}{}",
                 options_.dir.string(), format_go_duration(options_.period),
                 format_go_duration(options_.retention_time),
                 options_.retention_bytes > 0
                     ? fmt::format(" and at most {} bytes", options_.retention_bytes)
                     : "");
    thread_ = std::thread([this] {
        util::name_this_thread("metrics-snap");
        auto next = std::chrono::steady_clock::now() + options_.period;
        while (!stop_.load()) {
            if (std::chrono::steady_clock::now() < next) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                continue;
            }
            next += options_.period;
            try {
                write_once();
            } catch (const std::exception& e) {
                spdlog::warn("metrics snapshot failed: {}", e.what());
            }
        }
    });
}

std::filesystem::path Snapshotter::write_once() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    std::string name =
        fmt::format("snapshot-{}.{:03}Z.txt{}", stamp, ms % 1000, options_.gzip ? ".gz" : "");
    std::filesystem::path path = options_.dir / name;
    std::filesystem::path tmp = options_.dir / (name + ".tmp");
    std::string body = exposition_();
    if (options_.gzip) {
        gzFile f = gzopen(tmp.c_str(), "wb");
        if (f == nullptr || gzwrite(f, body.data(), static_cast<unsigned>(body.size())) !=
                                static_cast<int>(body.size())) {
            if (f != nullptr) {
                gzclose(f);
            }
            throw fatal("cannot write " + tmp.string());
        }
        gzclose(f);
    } else {
        std::ofstream out(tmp, std::ios::binary);
        out << body;
        if (!out) {
            throw fatal("cannot write " + tmp.string());
        }
    }
    std::filesystem::rename(tmp, path);  // readers never see a partial file
    prune();
    return path;
}

void Snapshotter::prune() {
    struct Entry {
        std::filesystem::path path;
        std::filesystem::file_time_type mtime;
        uint64_t size;
    };
    std::vector<Entry> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(options_.dir, ec)) {
        std::string n = e.path().filename().string();
        if (n.rfind("snapshot-", 0) == 0 && n.find(".tmp") == std::string::npos) {
            files.push_back({e.path(), e.last_write_time(ec), e.file_size(ec)});
        }
    }
    // Names sort by time.
    std::sort(files.begin(), files.end(),
              [](const Entry& a, const Entry& b) { return a.path.filename() < b.path.filename(); });
    auto now = std::filesystem::file_time_type::clock::now();
    std::vector<Entry> kept;
    for (auto& f : files) {
        if (options_.retention_time.count() > 0 && now - f.mtime > options_.retention_time) {
            std::filesystem::remove(f.path, ec);
        } else {
            kept.push_back(f);
        }
    }
    if (options_.retention_bytes > 0) {
        uint64_t total = 0;
        for (const auto& f : kept) {
            total += f.size;
        }
        // Never delete the newest snapshot, even if it alone is over the limit.
        for (size_t i = 0; i + 1 < kept.size() && total > options_.retention_bytes; ++i) {
            std::filesystem::remove(kept[i].path, ec);
            total -= kept[i].size;
        }
    }
}

}  // namespace rep::metrics
