#include "source/oracle/oracle_url.h"

#include "base/error.h"
#include "base/hex.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::oracle {

OracleUrl OracleUrl::parse(const std::string& text, const std::string& flag) {
    auto bad = [&](const std::string& why) {
        return setup_error(
            fmt::format("{} is not an Oracle URL ({}); write it as "
                        "oracle://user:password@host:1521/SERVICE_NAME",
                        flag, why));
    };
    const std::string scheme = "oracle://";
    if (text.rfind(scheme, 0) != 0) {
        throw bad("it must start with oracle://");
    }
    std::string rest = text.substr(scheme.size());
    OracleUrl u;
    // The last @ ends the user part, so an unencoded @ in the password stays in it.
    auto at = rest.rfind('@');
    if (at == std::string::npos) {
        throw bad("it has no user@ part");
    }
    std::string userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    u.user = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string::npos) {
        u.password = percent_decode(userinfo.substr(colon + 1));
    }
    if (u.user.empty()) {
        throw bad("the user name is empty");
    }
    if (auto q = rest.find('?'); q != std::string::npos) {
        std::string query = rest.substr(q + 1);
        rest = rest.substr(0, q);
        size_t pos = 0;
        while (pos < query.size()) {
            auto amp = query.find('&', pos);
            std::string kv = query.substr(pos, amp == std::string::npos ? amp : amp - pos);
            auto eq = kv.find('=');
            if (!kv.empty()) {
                u.params[percent_decode(kv.substr(0, eq))] =
                    eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1));
            }
            pos = amp == std::string::npos ? query.size() : amp + 1;
        }
    }
    auto slash = rest.find('/');
    if (slash == std::string::npos || slash + 1 == rest.size()) {
        throw bad("it names no service after the host");
    }
    u.service = percent_decode(rest.substr(slash + 1));
    std::string hostport = rest.substr(0, slash);
    std::string port;
    if (!hostport.empty() && hostport.front() == '[') {
        auto close = hostport.find(']');
        if (close == std::string::npos) {
            throw bad("an IPv6 host has no closing ]");
        }
        u.host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size()) {
            if (hostport[close + 1] != ':') {
                throw bad("text follows the IPv6 host");
            }
            port = hostport.substr(close + 2);
        }
    } else {
        auto c = hostport.rfind(':');
        u.host = hostport.substr(0, c);
        if (c != std::string::npos) {
            port = hostport.substr(c + 1);
        }
    }
    if (u.host.empty()) {
        throw bad("the host is empty");
    }
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(port) == 0 || std::stoul(port) > 65535) {
            throw bad("the port is not a number from 1 to 65535");
        }
        u.port = static_cast<unsigned>(std::stoul(port));
    }
    return u;
}

std::string OracleUrl::easy_connect() const {
    std::string host_text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    std::string out = fmt::format("//{}:{}/{}", host_text, port, service);
    char sep = '?';
    bool timeout = false;
    for (const auto& [k, v] : params) {
        out += fmt::format("{}{}={}", sep, k, v);
        sep = '&';
        std::string upper = k;
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
        timeout = timeout || upper == "CONNECT_TIMEOUT";
    }
    if (!timeout) {
        out += fmt::format("{}CONNECT_TIMEOUT=10", sep);  // seconds: connecting is bounded
    }
    return out;
}

std::string OracleUrl::redacted() const {
    std::string host_text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return fmt::format("oracle://{}@{}:{}/{}", user, host_text, port, service);
}

}  // namespace rep::oracle
