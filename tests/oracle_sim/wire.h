#pragma once

// The line protocol between the stand-in OCI library (stand_in_oci.cc) or a test's control
// client and the simulator server (sim_server.cc): one JSON object per line each way over
// TCP. Text cells and binds travel as hex, so that any bytes (a CSF piece ends inside a
// multi-byte character) cross unchanged; NULL is null.
//
//   {"op":"login","user":..,"password":..,"service":..}      -> {} or {"code":N,"error":"ORA-.."}
//   {"op":"exec","sql":..,"binds":[hex..]}                    -> {"rows":[[hex|null..]..]} or error
//   {"op":"commit"} {"op":"rollback"} {"op":"ping"}           -> {}
//   {"op":"control","cmd":..,...}                             -> command's answer (sim_server.cc)

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace rep::oracle::sim::wire {

inline std::string to_hex(const std::string& s) {
    static const char* kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(s.size() * 2);
    for (unsigned char c : s) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

inline std::string from_hex(const std::string& s) {
    auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string out;
    out.reserve(s.size() / 2);
    for (size_t i = 0; i + 1 < s.size(); i += 2) {
        out += static_cast<char>(digit(s[i]) * 16 + digit(s[i + 1]));
    }
    return out;
}

// Sends one message; false if the peer is gone.
inline bool send_line(int fd, const nlohmann::json& message) {
    std::string line = message.dump() + "\n";
    size_t at = 0;
    while (at < line.size()) {
        ssize_t n = ::send(fd, line.data() + at, line.size() - at, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        at += static_cast<size_t>(n);
    }
    return true;
}

// Reads one message; nullopt at end of stream or on a receive timeout.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}

    std::optional<nlohmann::json> next() {
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return nlohmann::json::parse(line);
            }
            char chunk[65536];
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return std::nullopt;
            }
            buffer_.append(chunk, static_cast<size_t>(n));
        }
    }

private:
    int fd_;
    std::string buffer_;
};

}  // namespace rep::oracle::sim::wire
