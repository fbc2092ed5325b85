// Records the raw binlog events a MariaDB (or MySQL) server sends to a replica, for use as
// unit test data.
//
//   capture_binlog --host H --port P --user U [--password PW] --out FILE [--file BINLOG]
//                  [--start POS] [--server-id N]
//
// Connects with MariaDB Connector/C, announces itself as a checksum-aware, GTID-capable
// replica, sends COM_BINLOG_DUMP in non-blocking mode (the server stops at the end of the last
// binlog) and writes every event, header to checksum, as [uint32 length, big-endian][event] in
// arrival order. The events are not interpreted.

// clang-format off
#include <mysql.h>
#include <mariadb_rpl.h>  // needs mysql.h first
// clang-format on

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace {

struct Args {
    std::string host = "127.0.0.1";
    unsigned port = 3306;
    std::string user = "root";
    std::string password;
    std::string out;
    std::string file;
    unsigned long start = 4;
    unsigned server_id = 4242;
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "capture_binlog: " << why
              << "\nusage: capture_binlog --host H --port P --user U [--password PW] --out FILE "
                 "[--file BINLOG] [--start POS] [--server-id N]\n";
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
        if (arg == "--host") {
            a.host = value();
        } else if (arg == "--port") {
            a.port = static_cast<unsigned>(std::stoul(value()));
        } else if (arg == "--user") {
            a.user = value();
        } else if (arg == "--password") {
            a.password = value();
        } else if (arg == "--out") {
            a.out = value();
        } else if (arg == "--file") {
            a.file = value();
        } else if (arg == "--start") {
            a.start = std::stoul(value());
        } else if (arg == "--server-id") {
            a.server_id = static_cast<unsigned>(std::stoul(value()));
        } else {
            usage("unknown option");
        }
    }
    if (a.out.empty()) {
        usage("--out is required");
    }
    return a;
}

int run(const Args& a) {
    MYSQL* mysql = mysql_init(nullptr);
    if (mysql_real_connect(mysql, a.host.c_str(), a.user.c_str(), a.password.c_str(), nullptr,
                           a.port, nullptr, 0) == nullptr) {
        std::cerr << "capture_binlog: connect: " << mysql_error(mysql) << "\n";
        return 1;
    }
    for (const char* q : {"SET @master_binlog_checksum = @@global.binlog_checksum",
                          "SET @mariadb_slave_capability = 4", "SET @slave_connect_state = ''"}) {
        if (mysql_query(mysql, q) != 0) {
            std::cerr << "capture_binlog: " << q << ": " << mysql_error(mysql) << "\n";
            return 1;
        }
    }
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    if (!out) {
        std::cerr << "capture_binlog: cannot write " << a.out << "\n";
        return 1;
    }
    MARIADB_RPL* rpl = mariadb_rpl_init(mysql);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, a.server_id);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, a.start);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, a.file.c_str(), a.file.size());
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, MARIADB_RPL_BINLOG_DUMP_NON_BLOCK);
    if (mariadb_rpl_open(rpl) != 0) {
        std::cerr << "capture_binlog: open: " << mariadb_rpl_error(rpl) << "\n";
        return 1;
    }
    size_t events = 0;
    size_t bytes = 0;
    MARIADB_RPL_EVENT* ev = nullptr;
    while ((ev = mariadb_rpl_fetch(rpl, ev)) != nullptr) {
        // raw_data is the packet after the leading OK byte: the whole event as logged.
        const unsigned char* data = ev->raw_data;
        size_t n = ev->raw_data_size;
        if (n == ev->event_length + 1 && data[0] == 0) {
            ++data;  // some Connector/C versions keep the OK byte
            --n;
        }
        auto len = static_cast<uint32_t>(n);
        const char hdr[4] = {static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                             static_cast<char>(len >> 8), static_cast<char>(len)};
        out.write(hdr, 4);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
        ++events;
        bytes += n + 4;
    }
    if (mariadb_rpl_errno(rpl) != 0) {
        std::cerr << "capture_binlog: fetch: " << mariadb_rpl_error(rpl) << "\n";
    }
    mariadb_free_rpl_event(ev);
    mariadb_rpl_close(rpl);
    mysql_close(mysql);
    out.close();
    if (!out) {
        std::cerr << "capture_binlog: writing " << a.out << " failed\n";
        return 1;
    }
    std::cerr << "capture_binlog: wrote " << events << " events (" << bytes << " bytes) to "
              << a.out << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return run(parse_args(argc, argv));
}
