// Records the pgoutput payloads a logical replication slot sends, for use as unit test data.
//
//   capture_pgoutput --source CONNINFO --slot NAME --publication NAME --out FILE
//                    [--proto 1|2] [--streaming] [--silence SECONDS]
//
// Connects in replication mode, runs START_REPLICATION from the slot's confirmed position and
// writes the payload of every XLogData ('w') message to FILE as
// [uint32 length, big-endian][payload], in arrival order. Keepalives are answered but not
// recorded, and the slot's position is never advanced (it reports flush position 0/0). Stops
// once no XLogData has arrived for --silence seconds (default 3).

#include "base/error.h"
#include "source/postgres/replication_conn.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace rep::pg {
namespace {

struct Args {
    std::string source;
    std::string slot;
    std::string publication;
    std::string out;
    int proto = 1;
    bool streaming = false;
    int silence_s = 3;
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "capture_pgoutput: " << why
              << "\nusage: capture_pgoutput --source CONNINFO --slot NAME --publication NAME "
                 "--out FILE [--proto 1|2] [--streaming] [--silence SECONDS]\n";
    std::exit(2);
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage("missing value after an option");
            }
            return argv[++i];
        };
        if (arg == "--source") {
            a.source = value();
        } else if (arg == "--slot") {
            a.slot = value();
        } else if (arg == "--publication") {
            a.publication = value();
        } else if (arg == "--out") {
            a.out = value();
        } else if (arg == "--proto") {
            a.proto = std::stoi(value());
        } else if (arg == "--streaming") {
            a.streaming = true;
        } else if (arg == "--silence") {
            a.silence_s = std::stoi(value());
        } else {
            usage("unknown option");
        }
    }
    if (a.source.empty() || a.slot.empty() || a.publication.empty() || a.out.empty()) {
        usage("--source, --slot, --publication and --out are required");
    }
    return a;
}

int run(const Args& a) {
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    if (!out) {
        std::cerr << "capture_pgoutput: cannot write " << a.out << "\n";
        return 1;
    }
    pg::ReplicationConn conn(a.source);
    conn.connect();
    pg::StartOptions so;
    so.slot = a.slot;
    so.publication = a.publication;
    so.proto_version = a.proto;
    so.streaming = a.streaming;
    conn.start(so);

    using Clock = std::chrono::steady_clock;
    const auto silence = std::chrono::seconds(a.silence_s);
    auto last_data = Clock::now();
    size_t messages = 0;
    size_t bytes = 0;
    while (Clock::now() - last_data < silence) {
        auto m = conn.receive(std::chrono::milliseconds(100));
        if (!m) {
            continue;
        }
        if (m->kind == 'k') {
            if (m->reply_requested) {
                conn.send_status(Lsn(0));
            }
            continue;
        }
        auto n = static_cast<uint32_t>(m->payload.size());
        const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                             static_cast<char>(n >> 8), static_cast<char>(n)};
        out.write(len, 4);
        out.write(m->payload.data(), static_cast<std::streamsize>(n));
        ++messages;
        bytes += n + 4;
        last_data = Clock::now();
    }
    conn.close();
    out.close();
    if (!out) {
        std::cerr << "capture_pgoutput: writing " << a.out << " failed\n";
        return 1;
    }
    std::cerr << "capture_pgoutput: wrote " << messages << " messages (" << bytes << " bytes) to "
              << a.out << "\n";
    return 0;
}

}  // namespace
}  // namespace rep::pg

int main(int argc, char** argv) {
    try {
        return rep::pg::run(rep::pg::parse_args(argc, argv));
    } catch (const rep::Error& e) {
        std::cerr << "capture_pgoutput: " << e.what() << "\n";
        return 1;
    }
}
