// A stand-in for Oracle's client library (libclntsh.so): the OCI functions the replicator
// loads with dlopen (src/source/oracle/oci_api.h), with the argument lists of Oracle's
// documentation, forwarding statements to the simulator server (sim_server.cc) named by the
// Easy Connect string's host and port. The replicator's production OCI code runs unchanged
// against it: it loads this file instead of Instant Client's.
//
// What it implements of OCI's behaviour: handles by type; binds read at execute time
// (SQLT_CHR); array defines with indicator (-1 NULL), returned length and return code (1406
// and a positive indicator when a value does not fit); OCIStmtFetch2 returning OCI_NO_DATA
// with the last partial batch and OCI_ATTR_ROWS_FETCHED; OCIErrorGet with one record
// "ORA-nnnnn: ..."; OCI_ATTR_CALL_TIMEOUT as a receive timeout (ORA-03156). Not thread-safe
// per handle, as OCI is used by the replicator.

#include "wire.h"

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

namespace {

using json = nlohmann::json;
namespace wire = rep::oracle::sim::wire;

using sword = int32_t;
using ub2 = uint16_t;
using sb2 = int16_t;
using ub4 = uint32_t;
using sb4 = int32_t;
using sb8 = int64_t;
using OraText = unsigned char;

constexpr sword kSuccess = 0;
constexpr sword kNoData = 100;
constexpr sword kError = -1;
constexpr sword kInvalidHandle = -2;

struct Handle {
    ub4 type = 0;
};

struct ErrorHandle : Handle {
    int code = 0;
    std::string message;
};

struct Server : Handle {
    int fd = -1;
    std::string service;
    std::unique_ptr<wire::LineReader> reader;
};

struct Session : Handle {
    std::string user;
    std::string password;
};

struct SvcCtx : Handle {
    Server* server = nullptr;
    Session* session = nullptr;
    ub4 call_timeout_ms = 0;
};

struct Bind {
    const char* value = nullptr;
    sb8 size = 0;
    const ub4* length = nullptr;
};

struct Define {
    char* value = nullptr;
    sb8 size = 0;
    sb2* indicator = nullptr;
    ub4* length = nullptr;
    ub2* code = nullptr;
};

struct Stmt : Handle {
    SvcCtx* svc = nullptr;
    std::string sql;
    std::vector<Bind> binds;
    std::vector<Define> defines;
    json rows = json::array();
    size_t next = 0;
    ub4 fetched = 0;
};

sword fail(void* errhp, int code, const std::string& message) {
    if (auto* e = static_cast<ErrorHandle*>(errhp)) {
        e->code = code;
        e->message = message;
    }
    return kError;
}

// One request and its answer; an error answer is copied into the error handle.
sword call(SvcCtx* svc, void* errhp, const json& request, json& answer) {
    if (svc == nullptr || svc->server == nullptr || svc->server->fd < 0) {
        return fail(errhp, 3114, "ORA-03114: not connected to ORACLE");
    }
    timeval tv{};
    tv.tv_sec = svc->call_timeout_ms / 1000;
    tv.tv_usec = static_cast<suseconds_t>((svc->call_timeout_ms % 1000) * 1000);
    ::setsockopt(svc->server->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (!wire::send_line(svc->server->fd, request)) {
        return fail(errhp, 3113, "ORA-03113: end-of-file on communication channel");
    }
    std::optional<json> got = svc->server->reader->next();
    if (!got) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            ::close(svc->server->fd);  // the answer may still come: the session is unusable
            svc->server->fd = -1;
            return fail(errhp, 3156, "ORA-03156: OCI call timed out");
        }
        return fail(errhp, 3113, "ORA-03113: end-of-file on communication channel");
    }
    answer = std::move(*got);
    if (answer.contains("error")) {
        return fail(errhp, answer.value("code", 600), answer["error"].get<std::string>());
    }
    return kSuccess;
}

}  // namespace

extern "C" {

// NOLINTBEGIN: the signatures are OCI's.

__attribute__((visibility("default"))) sword OCIEnvNlsCreate(void** envhpp, ub4, void*, void*,
                                                             void*, void*, size_t, void**, ub2,
                                                             ub2) {
    *envhpp = new Handle{1};
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIHandleAlloc(const void*, void** hndlpp, ub4 type,
                                                            size_t, void**) {
    switch (type) {
        case 2:
            *hndlpp = new ErrorHandle{{type}, 0, {}};
            break;
        case 3:
            *hndlpp = new SvcCtx{{type}};
            break;
        case 8:
            *hndlpp = new Server{{type}};
            break;
        case 9:
            *hndlpp = new Session{{type}};
            break;
        default:
            return kInvalidHandle;
    }
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIHandleFree(void* hndlp, ub4 type) {
    switch (type) {
        case 2:
            delete static_cast<ErrorHandle*>(hndlp);
            break;
        case 3:
            delete static_cast<SvcCtx*>(hndlp);
            break;
        case 8: {
            auto* s = static_cast<Server*>(hndlp);
            if (s->fd >= 0) {
                ::close(s->fd);
            }
            delete s;
            break;
        }
        case 9:
            delete static_cast<Session*>(hndlp);
            break;
        default:
            delete static_cast<Handle*>(hndlp);
    }
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIServerAttach(void* srvhp, void* errhp,
                                                             const OraText* dblink, sb4 len, ub4) {
    auto* server = static_cast<Server*>(srvhp);
    std::string link(reinterpret_cast<const char*>(dblink), static_cast<size_t>(len));
    // //host:port/service[?params]
    if (link.rfind("//", 0) != 0) {
        return fail(errhp, 12154, "ORA-12154: TNS:could not resolve the connect identifier");
    }
    std::string rest = link.substr(2);
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    server->service = slash == std::string::npos ? "" : rest.substr(slash + 1);
    server->service = server->service.substr(0, server->service.find('?'));
    auto colon = hostport.rfind(':');
    int port = std::stoi(hostport.substr(colon + 1));
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return fail(errhp, 12541, "ORA-12541: TNS:no listener");
    }
    server->fd = fd;
    server->reader = std::make_unique<wire::LineReader>(fd);
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIServerDetach(void* srvhp, void*, ub4) {
    auto* server = static_cast<Server*>(srvhp);
    if (server->fd >= 0) {
        ::close(server->fd);
        server->fd = -1;
    }
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIAttrSet(void* h, ub4 htype, void* value, ub4 size,
                                                        ub4 attr, void*) {
    if (htype == 3 && attr == 6) {
        static_cast<SvcCtx*>(h)->server = static_cast<Server*>(value);
    } else if (htype == 3 && attr == 7) {
        static_cast<SvcCtx*>(h)->session = static_cast<Session*>(value);
    } else if (htype == 3 && attr == 531) {
        static_cast<SvcCtx*>(h)->call_timeout_ms = *static_cast<ub4*>(value);
    } else if (htype == 9 && attr == 22) {
        static_cast<Session*>(h)->user.assign(static_cast<const char*>(value), size);
    } else if (htype == 9 && attr == 23) {
        static_cast<Session*>(h)->password.assign(static_cast<const char*>(value), size);
    }
    return kSuccess;  // other attributes (driver name, module) are accepted and ignored
}

__attribute__((visibility("default"))) sword OCIAttrGet(const void* h, ub4 htype, void* value,
                                                        ub4* sizep, ub4 attr, void*) {
    if (htype == 4 && attr == 197) {
        *static_cast<ub4*>(value) = static_cast<const Stmt*>(h)->fetched;
        if (sizep != nullptr) {
            *sizep = sizeof(ub4);
        }
        return kSuccess;
    }
    return kError;
}

__attribute__((visibility("default"))) sword OCISessionBegin(void* svchp, void* errhp, void* usrhp,
                                                             ub4, ub4) {
    auto* svc = static_cast<SvcCtx*>(svchp);
    auto* session = static_cast<Session*>(usrhp);
    json answer;
    return call(svc, errhp,
                {{"op", "login"},
                 {"user", session->user},
                 {"password", session->password},
                 {"service", svc->server != nullptr ? svc->server->service : ""}},
                answer);
}

__attribute__((visibility("default"))) sword OCISessionEnd(void*, void*, void*, ub4) {
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIStmtPrepare2(void* svchp, void** stmtp, void*,
                                                             const OraText* text, ub4 len,
                                                             const OraText*, ub4, ub4, ub4) {
    auto* stmt = new Stmt{{4}};
    stmt->svc = static_cast<SvcCtx*>(svchp);
    stmt->sql.assign(reinterpret_cast<const char*>(text), len);
    *stmtp = stmt;
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIStmtRelease(void* stmtp, void*, const OraText*, ub4,
                                                            ub4) {
    delete static_cast<Stmt*>(stmtp);
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIBindByPos2(void* stmtp, void** bindp, void*,
                                                           ub4 position, void* valuep, sb8 size,
                                                           ub2, void*, ub4* alenp, ub2*, ub4, ub4*,
                                                           ub4) {
    auto* stmt = static_cast<Stmt*>(stmtp);
    if (stmt->binds.size() < position) {
        stmt->binds.resize(position);
    }
    stmt->binds[position - 1] = Bind{static_cast<const char*>(valuep), size, alenp};
    *bindp = stmt;
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIDefineByPos2(void* stmtp, void** defnp, void*,
                                                             ub4 position, void* valuep, sb8 size,
                                                             ub2, void* indp, ub4* rlenp,
                                                             ub2* rcodep, ub4) {
    auto* stmt = static_cast<Stmt*>(stmtp);
    if (stmt->defines.size() < position) {
        stmt->defines.resize(position);
    }
    stmt->defines[position - 1] =
        Define{static_cast<char*>(valuep), size, static_cast<sb2*>(indp), rlenp, rcodep};
    *defnp = stmt;
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIStmtExecute(void* svchp, void* stmtp, void* errhp,
                                                            ub4, ub4, const void*, void*, ub4) {
    auto* stmt = static_cast<Stmt*>(stmtp);
    json binds = json::array();
    for (const Bind& b : stmt->binds) {
        size_t n = b.length != nullptr ? *b.length : static_cast<size_t>(b.size);
        binds.push_back(wire::to_hex(std::string(b.value, n)));
    }
    json answer;
    sword status = call(static_cast<SvcCtx*>(svchp), errhp,
                        {{"op", "exec"}, {"sql", stmt->sql}, {"binds", binds}}, answer);
    if (status != kSuccess) {
        return status;
    }
    stmt->rows = answer.value("rows", json::array());
    stmt->next = 0;
    stmt->fetched = 0;
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCIStmtFetch2(void* stmtp, void*, ub4 nrows, ub2, sb4,
                                                           ub4) {
    auto* stmt = static_cast<Stmt*>(stmtp);
    ub4 n = 0;
    for (; n < nrows && stmt->next < stmt->rows.size(); ++n, ++stmt->next) {
        const json& row = stmt->rows[stmt->next];
        for (size_t c = 0; c < stmt->defines.size() && c < row.size(); ++c) {
            Define& d = stmt->defines[c];
            if (row[c].is_null()) {
                d.indicator[n] = -1;
                d.length[n] = 0;
                d.code[n] = 1405;
                continue;
            }
            std::string value = wire::from_hex(row[c].get<std::string>());
            size_t fit = std::min(value.size(), static_cast<size_t>(d.size));
            std::memcpy(d.value + static_cast<size_t>(d.size) * n, value.data(), fit);
            d.length[n] = static_cast<ub4>(fit);
            bool cut = fit < value.size();
            d.indicator[n] = cut ? static_cast<sb2>(std::min<size_t>(value.size(), 32767)) : 0;
            d.code[n] = cut ? 1406 : 0;
        }
    }
    stmt->fetched = n;
    return n < nrows ? kNoData : kSuccess;
}

__attribute__((visibility("default"))) sword OCIErrorGet(void* hndlp, ub4 recordno, OraText*,
                                                         sb4* errcodep, OraText* bufp, ub4 bufsiz,
                                                         ub4) {
    auto* e = static_cast<ErrorHandle*>(hndlp);
    if (recordno != 1 || e->code == 0) {
        return kNoData;
    }
    *errcodep = e->code;
    std::string text = e->message + "\n";
    size_t n = std::min<size_t>(text.size(), bufsiz - 1);
    std::memcpy(bufp, text.data(), n);
    bufp[n] = 0;
    return kSuccess;
}

__attribute__((visibility("default"))) sword OCITransCommit(void* svchp, void* errhp, ub4) {
    json answer;
    return call(static_cast<SvcCtx*>(svchp), errhp, {{"op", "commit"}}, answer);
}

__attribute__((visibility("default"))) sword OCITransRollback(void* svchp, void* errhp, ub4) {
    json answer;
    return call(static_cast<SvcCtx*>(svchp), errhp, {{"op", "rollback"}}, answer);
}

__attribute__((visibility("default"))) sword OCIPing(void* svchp, void* errhp, ub4) {
    json answer;
    return call(static_cast<SvcCtx*>(svchp), errhp, {{"op", "ping"}}, answer);
}

// Breaks the call in progress on the service context, from another thread: the connection is
// shut down, so the blocked receive ends and the call fails (the session is unusable after,
// as the replicator treats it).
__attribute__((visibility("default"))) sword OCIBreak(void* hndlp, void*) {
    auto* svc = static_cast<SvcCtx*>(hndlp);
    if (svc != nullptr && svc->server != nullptr && svc->server->fd >= 0) {
        ::shutdown(svc->server->fd, SHUT_RDWR);
    }
    return kSuccess;
}

__attribute__((visibility("default"))) void OCIClientVersion(sword* major, sword* minor,
                                                             sword* update, sword* patch,
                                                             sword* port_update) {
    *major = 19;
    *minor = 0;
    *update = 0;
    *patch = 0;
    *port_update = 0;
}

// NOLINTEND

}  // extern "C"
