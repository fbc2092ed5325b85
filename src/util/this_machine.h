#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// What the apply side may learn about the machine it runs on: whether a server it connected to
// runs here too, and how busy the cores are. Together they say whether more target
// connections would only compete with the replicator and the source for the same cores
// (sequencer/worker_limit.h).
namespace rep::util {

// Busy and total time of one core, in /proc/stat's units (clock ticks).
struct CoreTimes {
    int core = 0;
    uint64_t busy = 0;
    uint64_t total = 0;
};

// The per-core lines of /proc/stat's text ("cpuN user nice system idle iowait irq softirq
// steal ..."), for the cores marked in `cores` (all of them when it is empty). Idle and
// iowait count as idle, everything else (steal too: the time was not ours to use) as busy;
// guest time is already part of user time. A line too short or unreadable is left out.
std::vector<CoreTimes> parse_proc_stat(std::string_view text, const std::vector<bool>& cores);

// The share of time that the cores read both times were busy between two readings, 0 to 1;
// nullopt when no time passed on them. A core that went offline or came back between the
// readings is left out (its counters restart).
std::optional<double> busy_between(const std::vector<CoreTimes>& before,
                                   const std::vector<CoreTimes>& after);

// How busy the cores this process may run on (the affinity mask of the thread that made it;
// all cores if that cannot be read) were between calls, read from /proc/stat. A container
// limited by a CPU quota rather than by cpusets is not seen as busier than its cores are.
class CoreLoad {
public:
    CoreLoad();
    // The share of the time since the previous call (or since construction) that those
    // cores were busy, 0 to 1; nullopt when /proc/stat cannot be read or no time passed.
    std::optional<double> busy_since_last();

private:
    std::vector<bool> cores_;
    std::vector<CoreTimes> last_;
};

// Whether a server reached at `host` (libpq's PQhost: a name, an address or a Unix-socket
// directory) whose address is `hostaddr` (PQhostaddr: numeric, empty for a socket) runs on
// this machine: a Unix socket, a loopback address, or one of `local_addresses` (this
// machine's interfaces, numeric).
bool is_this_machine(std::string_view host, std::string_view hostaddr,
                     const std::vector<std::string>& local_addresses);

// The numeric addresses of this machine's network interfaces (getifaddrs).
std::vector<std::string> local_addresses();

}  // namespace rep::util
