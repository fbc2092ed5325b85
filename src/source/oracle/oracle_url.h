#pragma once

#include <map>
#include <string>

namespace rep::oracle {

// An Oracle connection string as MOLT Replicator takes it (reference §4.4):
//   oracle://user:password@host:port/service?param=value&...
// User and password are percent-decoded (C%23%23REPL is C##REPL); the default port is 1521;
// an IPv6 host goes in brackets; parameters are passed on as Easy Connect Plus parameters
// (CONNECT_TIMEOUT, RETRY_COUNT, TRANSPORT_CONNECT_TIMEOUT, ...).
struct OracleUrl {
    std::string user;
    std::string password;
    std::string host;
    unsigned port = 1521;
    std::string service;
    std::map<std::string, std::string> params;

    // Throws rep::Error (fatal, exit status 2) naming `flag` when malformed; the message
    // never repeats the URL, which may hold the password.
    static OracleUrl parse(const std::string& text, const std::string& flag);
    // The Easy Connect string OCIServerAttach takes: //host:port/service?params, with
    // CONNECT_TIMEOUT=10 (seconds) unless the URL sets one.
    std::string easy_connect() const;
    // oracle://user@host:port/service, never the password.
    std::string redacted() const;
};

}  // namespace rep::oracle
