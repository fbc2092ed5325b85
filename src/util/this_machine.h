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

// Busy and total time of some cores, in /proc/stat's units (clock ticks).
struct CoreTimes {
    uint64_t busy = 0;
    uint64_t total = 0;
};

// Sums the per-core lines ("cpuN user nice system idle iowait irq softirq steal ...") of
// /proc/stat's text for the cores listed in `cores` (all of them when empty). Idle and iowait
// count as idle; guest time is already part of user time. nullopt when no listed core has a
// readable line.
std::optional<CoreTimes> parse_proc_stat(std::string_view text, const std::vector<int>& cores);

// How busy the cores this process may run on (its affinity mask) were between calls, read
// from /proc/stat. A container limited by a CPU quota rather than by cpusets is not seen as
// busier than its cores are.
class CoreLoad {
public:
    CoreLoad();
    // The fraction of the time since the previous call (or since construction) that those
    // cores were busy, 0 to 1; nullopt when /proc/stat cannot be read or no time passed.
    std::optional<double> busy_since_last();

private:
    std::vector<int> cores_;
    std::optional<CoreTimes> last_;
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
