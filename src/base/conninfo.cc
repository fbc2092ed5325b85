#include "base/conninfo.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace rep {
namespace {

struct OptionsDeleter {
    void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Options = std::unique_ptr<PQconninfoOption, OptionsDeleter>;

Options parse(std::string_view conninfo) {
    char* err = nullptr;
    Options opts(PQconninfoParse(std::string(conninfo).c_str(), &err));
    if (err != nullptr) {
        PQfreemem(err);
    }
    return opts;
}

}  // namespace

std::string url_userinfo_problem(std::string_view url) {
    size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
        return {};
    }
    std::string_view rest = url.substr(sep + 3);
    // A well-formed URL's authority ([user[:password]@]hosts) ends at the first / ? or #, and
    // holds at most one @. An unencoded @ / ? or # in the user name or password breaks that,
    // and a parser then reads part of the password as a host, a port or a database name,
    // which would connect elsewhere and print it.
    size_t end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end);
    size_t ats = std::count(authority.begin(), authority.end(), '@');
    bool ambiguous = ats > 1;
    if (ats == 0 && end != std::string_view::npos) {
        // No user part, yet an @ after the authority and before any parameter's '=':
        // "user:pa/ss@host/db", "user:pa?ss@host/db".
        std::string_view after = rest.substr(end);
        size_t at = after.find('@');
        ambiguous = at != std::string_view::npos && at < after.find('=');
    }
    if (!ambiguous) {
        return {};
    }
    return "its user name or password holds a character that must be percent-encoded in a URL "
           "(@ as %40, / as %2F, ? as %3F, # as %23, % as %25)";
}

std::string conninfo_problem(std::string_view conninfo) {
    size_t sep = conninfo.find("://");
    if (sep != std::string_view::npos) {
        std::string scheme(conninfo.substr(0, sep));
        bool plain = !scheme.empty() && scheme.find_first_of(" =\t'\"") == std::string::npos;
        std::string lower;
        for (char ch : scheme) {
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        if (lower != "postgresql" && lower != "postgres") {
            return plain && scheme.size() <= 20
                       ? fmt::format("its scheme \"{}\" is not postgresql:// or postgres://",
                                     scheme)
                       : "it is not a postgresql:// URL or a key=value string";
        }
        if (std::string problem = url_userinfo_problem(conninfo); !problem.empty()) {
            return problem;
        }
    }
    if (!parse(conninfo)) {
        return "libpq cannot parse it (a postgresql:// URL or key=value pairs are expected)";
    }
    return {};
}

std::string conninfo_value(std::string_view conninfo, std::string_view key) {
    Options opts = parse(conninfo);
    if (!opts) {
        return {};
    }
    for (PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o) {
        if (key == o->keyword && o->val != nullptr) {
            return o->val;
        }
    }
    return {};
}

std::string redact_conninfo(std::string_view conninfo) {
    Options opts = parse(conninfo);
    if (!opts || !url_userinfo_problem(conninfo).empty()) {
        return "<invalid connection string>";
    }
    std::string host, port, user, dbname;
    for (PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr) {
            continue;
        }
        std::string_view k = o->keyword;
        if (k == "host" || (k == "hostaddr" && host.empty())) {
            host = o->val;
        } else if (k == "port") {
            port = o->val;
        } else if (k == "user") {
            user = o->val;
        } else if (k == "dbname") {
            dbname = o->val;
        }
    }
    std::string out = "postgresql://";
    if (!user.empty()) {
        out += user + "@";
    }
    out += host.empty() ? "localhost" : host;
    if (!port.empty()) {
        out += ":" + port;
    }
    if (!dbname.empty()) {
        out += "/" + dbname;
    }
    return out;
}

std::vector<std::string> conninfo_identities(std::string_view conninfo) {
    std::vector<std::string> out;
    auto add_list = [&](std::string_view list) {
        size_t start = 0;
        while (start <= list.size()) {
            size_t comma = std::min(list.find(',', start), list.size());
            if (comma > start) {
                out.emplace_back(list.substr(start, comma - start));
            }
            start = comma + 1;
        }
    };
    constexpr std::string_view kMysql = "mysql://";
    if (conninfo.substr(0, kMysql.size()) == kMysql) {
        std::string_view rest = conninfo.substr(kMysql.size());
        size_t at = rest.rfind('@');
        if (at != std::string_view::npos) {
            std::string_view userinfo = rest.substr(0, at);
            out.emplace_back(userinfo.substr(0, userinfo.find(':')));
            rest = rest.substr(at + 1);
        }
        std::string_view host = rest.substr(0, rest.find_first_of("/?"));
        if (host.substr(0, 4) == "tcp(") {
            host = host.substr(4, host.size() > 5 ? host.size() - 5 : 0);
        }
        if (size_t colon = host.rfind(':');
            colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
            host = host.substr(0, colon);
        }
        out.emplace_back(host.empty() ? "127.0.0.1" : host);
        return out;
    }
    for (const char* key : {"user", "host", "hostaddr"}) {
        add_list(conninfo_value(conninfo, key));
    }
    for (const char* env : {"PGUSER", "PGHOST", "PGHOSTADDR", "USER", "LOGNAME"}) {
        // libpq's defaults: its errors may name them. The process never changes its
        // environment, so reading it is safe from any thread.
        if (const char* v = std::getenv(env)) {  // NOLINT(concurrency-mt-unsafe)
            add_list(v);
        }
    }
    return out;
}

std::string hide_identities(std::string_view text, const std::vector<std::string>& identities) {
    auto word = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
    };
    std::string out(text);
    for (const std::string& id : identities) {
        if (id.empty() || id == "<hidden>") {
            continue;
        }
        size_t pos = 0;
        while ((pos = out.find(id, pos)) != std::string::npos) {
            size_t end = pos + id.size();
            // Whole names only: user "postgres" is not the start of "postgresql://", and a
            // trailing dot ends a sentence rather than continuing a host name.
            bool starts = pos == 0 || !word(out[pos - 1]);
            bool ends = end == out.size() || !word(out[end]) ||
                        (out[end] == '.' && (end + 1 == out.size() || !word(out[end + 1])));
            if (starts && ends) {
                out.replace(pos, id.size(), "<hidden>");
                pos += 8;
            } else {
                pos = end;
            }
        }
    }
    return out;
}

}  // namespace rep
