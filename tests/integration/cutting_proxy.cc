#include "cutting_proxy.h"

#include <arpa/inet.h>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace harness {
namespace {

int connect_local(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool write_all(int fd, const char* data, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w <= 0) {
            return false;
        }
        data += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

}  // namespace

CuttingProxy::CuttingProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = 0;  // any free port
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("cutting proxy: cannot listen");
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

CuttingProxy::~CuttingProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    {
        std::lock_guard lock(mu_);
        for (int fd : fds_) {
            ::shutdown(fd, SHUT_RDWR);
        }
    }
    for (auto& t : connections_) {
        t.join();
    }
}

void CuttingProxy::accept_loop() {
    while (!stopping_) {
        int client = ::accept(listen_fd_, nullptr, nullptr);
        if (client < 0) {
            continue;
        }
        std::lock_guard lock(mu_);
        if (stopping_) {
            ::close(client);
            return;
        }
        connections_.emplace_back([this, client] { serve(client); });
    }
}

void CuttingProxy::serve(int client) {
    int server = connect_local(target_port_);
    if (server < 0) {
        ::close(client);
        return;
    }
    {
        std::lock_guard lock(mu_);
        fds_.push_back(client);
        fds_.push_back(server);
    }
    std::atomic<bool> cutting{false};
    std::thread back([&] {
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(server, buf, sizeof(buf));
            if (n <= 0 || cutting) {  // the answer to the COMMIT never arrives
                if (n <= 0) {
                    ::shutdown(client, SHUT_WR);
                    return;
                }
                continue;
            }
            if (!write_all(client, buf, static_cast<size_t>(n))) {
                return;
            }
        }
    });
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(client, buf, sizeof(buf));
        if (n <= 0) {
            ::shutdown(server, SHUT_WR);
            break;
        }
        std::string_view chunk(buf, static_cast<size_t>(n));
        bool cut = false;
        if (armed_) {
            std::lock_guard lock(mu_);
            cut = chunk.find(trigger_) != std::string_view::npos;
        }
        if (cut) {
            armed_ = false;
            cutting = true;
        }
        if (!write_all(server, buf, static_cast<size_t>(n))) {
            break;
        }
        if (cut) {
            // Give the server time to commit, then lose the connection.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            ++cuts_;
            ::shutdown(client, SHUT_RDWR);
            ::shutdown(server, SHUT_RDWR);
            break;
        }
    }
    back.join();
    {
        std::lock_guard lock(mu_);
        std::erase(fds_, client);
        std::erase(fds_, server);
    }
    ::close(client);
    ::close(server);
}

}  // namespace harness
