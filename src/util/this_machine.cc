#include "util/this_machine.h"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstring>
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

std::vector<CoreTimes> parse_proc_stat(std::string_view text, const std::vector<bool>& cores) {
    std::vector<CoreTimes> out;
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
            (!cores.empty() && (static_cast<size_t>(core) >= cores.size() || !cores[core]))) {
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
        CoreTimes t;
        t.core = core;
        for (uint64_t f : fields) {
            t.total += f;
        }
        t.busy = t.total - fields[3] - fields[4];
        out.push_back(t);
    }
    return out;
}

std::optional<double> busy_between(const std::vector<CoreTimes>& before,
                                   const std::vector<CoreTimes>& after) {
    uint64_t busy = 0;
    uint64_t total = 0;
    for (const CoreTimes& a : after) {
        auto b = std::find_if(before.begin(), before.end(),
                              [&](const CoreTimes& t) { return t.core == a.core; });
        // Counters only grow while a core stays online.
        if (b == before.end() || a.total < b->total || a.busy < b->busy) {
            continue;
        }
        busy += a.busy - b->busy;
        total += a.total - b->total;
    }
    if (total == 0) {
        return std::nullopt;
    }
    return std::min(1.0, static_cast<double>(busy) / static_cast<double>(total));
}

CoreLoad::CoreLoad() {
    cpu_set_t set;
    CPU_ZERO(&set);
    // More than CPU_SETSIZE (1024) cores: EINVAL, and every core counts.
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        cores_.assign(CPU_SETSIZE, false);
        for (int i = 0; i < CPU_SETSIZE; ++i) {
            cores_[i] = CPU_ISSET(i, &set);
        }
    }
    busy_since_last();
}

std::optional<double> CoreLoad::busy_since_last() {
    std::ifstream in("/proc/stat");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<CoreTimes> now = parse_proc_stat(text.str(), cores_);
    std::optional<double> busy = busy_between(last_, now);
    last_ = std::move(now);
    return busy;
}

namespace {

// An address as 16 bytes of IPv6 (IPv4 as ::ffff:a.b.c.d), or nullopt if `text` is not a
// numeric address. A link-local scope ("fe80::1%eth0") is cut off.
std::optional<in6_addr> parse_address(std::string_view text) {
    std::string t(text.substr(0, text.find('%')));
    in6_addr v6{};
    if (inet_pton(AF_INET6, t.c_str(), &v6) == 1) {
        return v6;
    }
    in_addr v4{};
    if (inet_pton(AF_INET, t.c_str(), &v4) == 1) {
        in6_addr mapped{};
        mapped.s6_addr[10] = 0xff;
        mapped.s6_addr[11] = 0xff;
        std::memcpy(&mapped.s6_addr[12], &v4, 4);
        return mapped;
    }
    return std::nullopt;
}

bool is_loopback_or_unspecified(const in6_addr& a) {
    if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a)) {
        return true;
    }
    // 127.0.0.0/8, and 0.0.0.0, which Linux connects to this machine.
    return IN6_IS_ADDR_V4MAPPED(&a) &&
           (a.s6_addr[12] == 127 ||
            (a.s6_addr[12] == 0 && a.s6_addr[13] == 0 && a.s6_addr[14] == 0 && a.s6_addr[15] == 0));
}

}  // namespace

bool is_this_machine(std::string_view host, std::string_view hostaddr,
                     const std::vector<std::string>& local_addresses) {
    // libpq names a Unix socket by its directory (or an abstract one by @name).
    if (!host.empty() && (host.front() == '/' || host.front() == '@')) {
        return true;
    }
    // Compared as bytes, not as text: libpq and glibc spell some IPv6 addresses differently.
    std::optional<in6_addr> addr = parse_address(hostaddr.empty() ? host : hostaddr);
    if (!addr) {
        return false;
    }
    if (is_loopback_or_unspecified(*addr)) {
        return true;
    }
    for (const std::string& local : local_addresses) {
        std::optional<in6_addr> mine = parse_address(local);
        if (mine && std::memcmp(mine->s6_addr, addr->s6_addr, 16) == 0) {
            return true;
        }
    }
    return false;
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
