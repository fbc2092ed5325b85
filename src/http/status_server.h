#pragma once

#include <memory>
#include <string>
#include <utility>

namespace rep::http {

// What the status endpoints report; implemented by the app, which sees the whole pipeline.
class StatusSource {
public:
    virtual ~StatusSource() = default;
    virtual std::string varz() = 0;                     // Prometheus text exposition
    virtual std::pair<bool, std::string> health() = 0;  // ok, one-line reason when not ok
    virtual std::string diag() = 0;                     // JSON
};

// Serves /_/varz, /_/healthz and /_/diag on --metricsAddr (":30005" for every interface or
// "host:30005") from civetweb worker threads; anything else under /_/ is 404.
class StatusServer {
public:
    // Throws rep::Error (fatal) naming --metricsAddr if the address cannot be bound.
    StatusServer(const std::string& address, StatusSource& source);
    ~StatusServer();
    StatusServer(const StatusServer&) = delete;
    StatusServer& operator=(const StatusServer&) = delete;

    // The port actually bound (useful with port 0).
    int port() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ":30005" -> "30005", "host:30005" -> "host:30005"; throws rep::Error if malformed.
std::string civetweb_listen_spec(const std::string& address);

}  // namespace rep::http
