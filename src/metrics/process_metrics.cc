// The process's own series: build and start information under our names and MOLT's
// (cdc_sink_*), log records by level (log_message_count), CPU, memory and descriptors.

#include "base/log.h"
#include "base/version.h"

#include "metrics/probe_impl.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

namespace rep::metrics {
namespace {

double process_start_time() {
    // Field 22 of /proc/self/stat is the start time in clock ticks since boot.
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    unsigned long long ticks = 0;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
        if (i == 22) {
            ticks = std::stoull(field);
        }
    }
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    double boot = static_cast<double>(now_us()) / 1e6 - uptime;
    return boot + static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

void Probe::Impl::init_process() {
    build_info.Add({{"version", kVersion}, {"source", source}}).Set(1);
    // MOLT's constant labels are Go's (go_version, module, commit, build_time); ours say
    // what this build is.
    sink_info.Add({{"version", kVersion}, {"module", "replicator"}, {"command", source}}).Set(1);
    double started = process_start_time();
    start_time.Add({}).Set(started);
    sink_start.Add({}).Set(started);
    for (size_t i = 0; i < kLogLevels.size(); ++i) {
        log_counters[i] = &log_count.Add({{"level", kLogLevels[i]}});
    }
}

void Probe::Impl::sample_process() {
    auto logged = log_message_counts();
    for (size_t i = 0; i < logged.size(); ++i) {
        if (logged[i] > log_reported[i]) {
            log_counters[i]->Increment(static_cast<double>(logged[i] - log_reported[i]));
            log_reported[i] = logged[i];
        }
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (cpu > cpu_reported) {
        cpu_total.Increment(cpu - cpu_reported);
        cpu_reported = cpu;
    }
    std::ifstream statm("/proc/self/statm");
    unsigned long long pages_total = 0, pages_rss = 0;
    statm >> pages_total >> pages_rss;
    double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    vmem.Add({}).Set(static_cast<double>(pages_total) * page);
    rss.Add({}).Set(static_cast<double>(pages_rss) * page);
    int nfds = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++nfds;
    }
    nfds -= nfds > 0 ? 1 : 0;  // the directory's own descriptor
    fds.Add({}).Set(nfds);
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    max_fds.Add({}).Set(static_cast<double>(rl.rlim_cur));
}

}  // namespace rep::metrics
