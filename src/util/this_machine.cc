#include "util/this_machine.h"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <fstream>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <sstream>

namespace rep::util {
namespace {

// The next whitespace-separated field of `line` from `pos`, as a number.
std::optional<uint64_t> next_number(std::string_view line, size_t& pos) {
    while (pos < line.size() && line[pos] == ' ') {
        ++pos;
    }
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(line.data() + pos, line.data() + line.size(), v);
    if (ec != std::errc() || end == line.data() + pos) {
        return std::nullopt;
    }
    pos = static_cast<size_t>(end - line.data());
    return v;
}

}  // namespace

std::optional<CoreTimes> parse_proc_stat(std::string_view text, const std::vector<int>& cores) {
    CoreTimes sum;
    bool any = false;
    size_t start = 0;
    while (start < text.size()) {
        size_t eol = std::min(text.find('\n', start), text.size());
        std::string_view line = text.substr(start, eol - start);
        start = eol + 1;
        // "cpu" alone is the sum over all cores; only the numbered lines are used.
        if (line.size() < 4 || line.substr(0, 3) != "cpu" || line[3] < '0' || line[3] > '9') {
            continue;
        }
        int core = 0;
        auto [end, ec] = std::from_chars(line.data() + 3, line.data() + line.size(), core);
        if (ec != std::errc() ||
            (!cores.empty() && std::find(cores.begin(), cores.end(), core) == cores.end())) {
            continue;
        }
        size_t pos = static_cast<size_t>(end - line.data());
        // user nice system idle iowait irq softirq steal: the first four are always there.
        uint64_t fields[8] = {};
        size_t n = 0;
        while (n < 8) {
            std::optional<uint64_t> v = next_number(line, pos);
            if (!v) {
                break;
            }
            fields[n++] = *v;
        }
        if (n < 4) {
            continue;
        }
        uint64_t total = 0;
        for (uint64_t f : fields) {
            total += f;
        }
        uint64_t idle = fields[3] + fields[4];
        sum.busy += total - idle;
        sum.total += total;
        any = true;
    }
    if (!any) {
        return std::nullopt;
    }
    return sum;
}

CoreLoad::CoreLoad() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE; ++i) {
            if (CPU_ISSET(i, &set)) {
                cores_.push_back(i);
            }
        }
    }
    busy_since_last();
}

std::optional<double> CoreLoad::busy_since_last() {
    std::ifstream in("/proc/stat");
    std::stringstream text;
    text << in.rdbuf();
    std::optional<CoreTimes> now = parse_proc_stat(text.str(), cores_);
    std::optional<CoreTimes> before = last_;
    last_ = now;
    if (!now || !before || now->total <= before->total || now->busy < before->busy) {
        return std::nullopt;
    }
    return static_cast<double>(now->busy - before->busy) /
           static_cast<double>(now->total - before->total);
}

bool is_this_machine(std::string_view host, std::string_view hostaddr,
                     const std::vector<std::string>& local_addresses) {
    // libpq names a Unix socket by its directory (or an abstract one by @name).
    if (!host.empty() && (host.front() == '/' || host.front() == '@')) {
        return true;
    }
    std::string addr(hostaddr.empty() ? host : hostaddr);
    in_addr v4{};
    if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
        if ((ntohl(v4.s_addr) >> 24) == 127) {
            return true;
        }
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6)) {
        return true;
    }
    return std::find(local_addresses.begin(), local_addresses.end(), addr) != local_addresses.end();
}

std::vector<std::string> local_addresses() {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return out;
    }
    for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr) {
            continue;
        }
        char text[INET6_ADDRSTRLEN] = {};
        if (a->ifa_addr->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
            inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            const auto* in = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
            inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        out.emplace_back(text);
    }
    freeifaddrs(list);
    return out;
}

}  // namespace rep::util
