#include "fault_proxy.h"

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
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
        ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return false;
        }
        data += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// Abortive close: the peer gets a reset, as from a kernel that no longer knows the connection.
void reset(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

}  // namespace

struct FaultProxy::Conn {
    int client = -1;
    int upstream = -1;
    bool born_in_partition = false;
    std::atomic<bool> cut_upstream{false};  // half_open() asked to drop the server side
};

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = 0;  // any free port
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("fault proxy: cannot listen");
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : threads_) {
        t.join();
    }
}

void FaultProxy::half_open() {
    std::lock_guard lock(mu_);
    for (auto& c : conns_) {
        c->cut_upstream = true;
    }
}

void FaultProxy::accept_loop() {
    while (!stopping_) {
        int client = ::accept(listen_fd_, nullptr, nullptr);
        if (client < 0) {
            continue;
        }
        auto c = std::make_shared<Conn>();
        c->client = client;
        if (partitioned_) {
            c->born_in_partition = true;
        } else {
            c->upstream = connect_local(upstream_port_);
            if (c->upstream < 0) {
                ::close(client);  // the server is down: refuse, as it would
                continue;
            }
        }
        ++accepted_;
        std::lock_guard lock(mu_);
        conns_.push_back(c);
        threads_.emplace_back([this, c] { serve(c); });
    }
}

void FaultProxy::serve(const std::shared_ptr<Conn>& c) {
    char buf[65536];
    bool client_gone = false;  // the client closed while partitioned: the server never heard
    while (!stopping_) {
        if (c->born_in_partition) {
            if (!partitioned_) {
                break;  // reset below
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        if (c->cut_upstream && c->upstream >= 0) {
            ::close(c->upstream);  // the server sees an orderly close
            c->upstream = -1;
        }
        if (partitioned_) {
            // Read nothing; only notice the client going away, which the server must not hear.
            pollfd p{client_gone ? -1 : c->client, POLLRDHUP, 0};
            if (p.fd >= 0 && ::poll(&p, 1, 20) > 0 &&
                (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
                client_gone = true;
            } else if (p.fd < 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            continue;
        }
        if (client_gone) {
            // A server session whose client vanished behind the partition: it stays until the
            // server sends something and is answered with a reset.
            pollfd p{c->upstream, POLLIN, 0};
            if (p.fd < 0 || ::poll(&p, 1, 50) > 0) {
                break;
            }
            continue;
        }
        pollfd p[2] = {{c->client, POLLIN, 0}, {c->upstream, POLLIN, 0}};
        if (p[0].fd < 0 && p[1].fd < 0) {
            break;
        }
        if (::poll(p, 2, 50) <= 0) {
            continue;
        }
        if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            ssize_t n = ::recv(c->client, buf, sizeof buf, 0);
            if (n <= 0) {
                ::close(c->client);
                c->client = -1;
                if (c->upstream >= 0) {
                    ::shutdown(c->upstream, SHUT_WR);  // pass the close on
                }
                break;
            }
            if (c->upstream >= 0 && !write_all(c->upstream, buf, static_cast<size_t>(n))) {
                break;
            }
            // Half-open: what the client sends goes nowhere.
        }
        if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            ssize_t n = ::recv(c->upstream, buf, sizeof buf, 0);
            if (n <= 0 || !write_all(c->client, buf, static_cast<size_t>(n))) {
                break;
            }
        }
    }
    if (c->client >= 0) {
        reset(c->client);
    }
    if (c->upstream >= 0) {
        reset(c->upstream);
    }
}

}  // namespace harness
