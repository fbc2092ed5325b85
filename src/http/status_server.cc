#include "http/status_server.h"

#include "base/error.h"

#include <fmt/format.h>

#include <CivetServer.h>

namespace rep::http {
namespace {

void reply(mg_connection* conn, int status, const char* type, const std::string& body) {
    const char* text = status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Not Found";
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: "
              "no-store\r\nConnection: close\r\n\r\n",
              status, text, type, body.size());
    mg_write(conn, body.data(), body.size());
}

// Health reasons often quote libpq messages, which span lines; probes want one line.
std::string one_line(const std::string& text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out.empty() ? "unhealthy" : out;
}

class Handler final : public CivetHandler {
public:
    Handler(StatusSource& source, std::string path) : source_(source), path_(std::move(path)) {}

    bool handleGet(CivetServer*, mg_connection* conn) override {
        const mg_request_info* info = mg_get_request_info(conn);
        std::string uri = info->local_uri != nullptr ? info->local_uri : "";
        try {
            if (uri == "/_/varz") {
                reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", source_.varz());
            } else if (uri == "/_/healthz") {
                auto [ok, reason] = source_.health();
                reply(conn, ok ? 200 : 503, "text/plain; charset=utf-8",
                      ok ? std::string("OK\n") : one_line(reason) + "\n");
            } else if (uri == "/_/diag") {
                reply(conn, 200, "application/json", source_.diag());
            } else {
                reply(conn, 404, "text/plain", "not found\n");
            }
        } catch (const std::exception& e) {
            reply(conn, 503, "text/plain", std::string("error: ") + e.what() + "\n");
        }
        return true;
    }

private:
    StatusSource& source_;
    std::string path_;
};

}  // namespace

std::string civetweb_listen_spec(const std::string& address) {
    auto colon = address.rfind(':');
    std::string port = colon == std::string::npos ? address : address.substr(colon + 1);
    bool numeric = !port.empty() && port.find_first_not_of("0123456789") == std::string::npos;
    if (!numeric) {
        throw fatal(fmt::format("--metricsAddr \"{}\" is not :PORT or HOST:PORT", address));
    }
    if (colon == std::string::npos || colon == 0) {
        return port;
    }
    return address;
}

struct StatusServer::Impl {
    std::unique_ptr<CivetServer> server;
    std::unique_ptr<Handler> handler;
};

StatusServer::StatusServer(const std::string& address, StatusSource& source)
    : impl_(std::make_unique<Impl>()) {
    std::vector<std::string> options = {"listening_ports", civetweb_listen_spec(address),
                                        "num_threads", "4"};
    try {
        impl_->server = std::make_unique<CivetServer>(options);
    } catch (const CivetException& e) {
        throw fatal(
            fmt::format("--metricsAddr {}: cannot serve metrics there ({}); is the port "
                        "already in use?",
                        address, e.what()));
    }
    impl_->handler = std::make_unique<Handler>(source, "/_/");
    impl_->server->addHandler("/_/", *impl_->handler);
}

StatusServer::~StatusServer() {
    if (impl_->server) {
        impl_->server->close();
    }
}

int StatusServer::port() const {
    auto ports = impl_->server->getListeningPorts();
    return ports.empty() ? 0 : ports[0];
}

}  // namespace rep::http
