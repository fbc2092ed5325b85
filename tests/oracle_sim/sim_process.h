#pragma once

// The simulator server (sim_server.cc) as a child process of a test, and its control
// commands: what the OCI tests (tests/unit/oracle_world.h) and the replicator's integration
// test (tests/integration/oracle_test.cc) both drive.

#include "wire.h"
#include <fmt/format.h>

#include <arpa/inet.h>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rep::oracle::sim {

// The simulator server as a child process, driven through its control commands.
class SimServer {
public:
    // Starts `server` (the oracle_sim_server binary) and sets up a database.
    SimServer(const char* server, uint64_t seed, int threads) {
        int out[2];
        if (::pipe(out) != 0) {
            throw std::runtime_error("pipe");
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::execl(server, server, "0", nullptr);
            ::_exit(127);
        }
        ::close(out[1]);
        FILE* f = ::fdopen(out[0], "r");
        if (std::fscanf(f, "PORT %d", &port_) != 1) {
            throw std::runtime_error("the simulator server did not start");
        }
        std::fclose(f);
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port_));
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("cannot reach the simulator server");
        }
        reader_ = std::make_unique<wire::LineReader>(fd_);
        control({{"cmd", "setup"}, {"seed", seed}, {"threads", threads}});
    }
    ~SimServer() {
        ::close(fd_);
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }

    nlohmann::json control(nlohmann::json request) {
        request["op"] = "control";
        if (!wire::send_line(fd_, request)) {
            throw std::runtime_error("the simulator server is gone");
        }
        std::optional<nlohmann::json> answer = reader_->next();
        if (!answer || answer->contains("error")) {
            throw std::runtime_error("simulator: " + (answer ? answer->dump() : "no answer"));
        }
        return *answer;
    }

    int port() const { return port_; }
    // oracle://C##REPL:<password>@127.0.0.1:<port>/<service> (C## URL-encoded).
    std::string url(const std::string& service, const std::string& password = "secret") const {
        return fmt::format("oracle://C%23%23REPL:{}@127.0.0.1:{}/{}", password, port_, service);
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    int fd_ = -1;
    std::unique_ptr<wire::LineReader> reader_;
};

}  // namespace rep::oracle::sim
