#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace harness {

// A TCP proxy between the replicator and one server that makes network faults on demand,
// without root or kernel support: a partition and a half-open connection.
class FaultProxy {
public:
    explicit FaultProxy(int upstream_port);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    int port() const { return port_; }

    // Nothing passes either way, on open connections or on new ones (they are accepted and
    // hear nothing), and neither end learns that the other closed: a network partition as
    // both ends see it. Bytes sent meanwhile wait, as TCP would retransmit them.
    void partition() { partitioned_ = true; }
    // Traffic flows again. Connections opened during the partition are reset. The server side
    // of a connection whose client went away meanwhile stays open, as a server behind a
    // partition never hears of it, until the server sends something (then it is reset, as the
    // client's kernel would answer): a server session idle in a transaction stays, holding its
    // locks, until the server's own time-outs end it.
    void heal() { partitioned_ = false; }
    // The server side of every open connection goes away (the server sees it close); the
    // client sides stay open and hear nothing more: half-open connections. New connections
    // pass as usual.
    void half_open();
    // Connections accepted so far.
    int accepted() const { return accepted_.load(); }

private:
    struct Conn;
    void accept_loop();
    void serve(const std::shared_ptr<Conn>& c);

    int upstream_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> partitioned_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::mutex mu_;
    std::vector<std::shared_ptr<Conn>> conns_;
    std::vector<std::thread> threads_;
};

}  // namespace harness
