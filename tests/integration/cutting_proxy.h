#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace harness {

// A TCP proxy to the target server that, once armed, loses the answer to the next statement
// whose text holds the trigger ("COMMIT" by default): it forwards the client's bytes holding
// it, drops whatever the server answers, and closes both sides a moment later. For a COMMIT
// the server has then committed, but the client cannot know. Only for connections without
// TLS (sslmode=disable), since it looks into the bytes.
class CuttingProxy {
public:
    explicit CuttingProxy(int target_port);
    ~CuttingProxy();
    CuttingProxy(const CuttingProxy&) = delete;
    CuttingProxy& operator=(const CuttingProxy&) = delete;

    int port() const { return port_; }
    void arm() { armed_ = true; }
    // Arms it for the next statement whose text contains `trigger` (set before connections
    // send it).
    void arm(const std::string& trigger) {
        {
            std::lock_guard lock(mu_);
            trigger_ = trigger;
        }
        armed_ = true;
    }
    int cuts() const { return cuts_.load(); }

private:
    void accept_loop();
    void serve(int client);

    int target_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> armed_{false};
    std::string trigger_{"COMMIT\0", 7};  // under mu_
    std::atomic<bool> stopping_{false};
    std::atomic<int> cuts_{0};
    std::thread acceptor_;
    std::mutex mu_;
    std::vector<std::thread> connections_;
    std::vector<int> fds_;
};

}  // namespace harness
