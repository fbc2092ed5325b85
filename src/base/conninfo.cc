#include "base/conninfo.h"

#include <fmt/format.h>
#include <libpq-fe.h>

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
    if (!opts) {
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
