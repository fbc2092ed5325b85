#include "base/conninfo.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
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

}  // namespace rep
