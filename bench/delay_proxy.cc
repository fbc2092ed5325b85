// A TCP proxy that delays every chunk of bytes by a fixed time in each direction, so a
// benchmark can put a target "across a network" on one machine (the kernel here has no netem).
// Each direction of each connection is a reader thread that stamps what it reads and a writer
// thread that sends it once its time has come; bytes are never reordered, and the delay does
// not limit bandwidth (a chunk waits only for its own release time).
//
//   delay_proxy LISTEN_PORT TARGET_PORT DELAY_MS     (both on 127.0.0.1)

#include <arpa/inet.h>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Chunk {
    Clock::time_point due;
    std::string bytes;  // empty: end of stream
};

struct Direction {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Chunk> chunks;
};

void pump(int from, int to, std::chrono::microseconds delay) {
    auto d = std::make_shared<Direction>();
    std::thread writer([d, to] {
        for (;;) {
            Chunk c;
            {
                std::unique_lock lock(d->mu);
                d->cv.wait(lock, [&] { return !d->chunks.empty(); });
                c = std::move(d->chunks.front());
                d->chunks.pop_front();
            }
            std::this_thread::sleep_until(c.due);
            if (c.bytes.empty()) {
                ::shutdown(to, SHUT_WR);
                return;
            }
            size_t off = 0;
            while (off < c.bytes.size()) {
                ssize_t n = ::write(to, c.bytes.data() + off, c.bytes.size() - off);
                if (n <= 0) {
                    return;
                }
                off += static_cast<size_t>(n);
            }
        }
    });
    std::vector<char> buf(256 * 1024);
    for (;;) {
        ssize_t n = ::read(from, buf.data(), buf.size());
        Chunk c{Clock::now() + delay, n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : ""};
        {
            std::lock_guard lock(d->mu);
            d->chunks.push_back(std::move(c));
        }
        d->cv.notify_one();
        if (n <= 0) {
            break;
        }
    }
    writer.join();
}

int connect_to(int port) {
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

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT DELAY_MS\n", argv[0]);
        return 2;
    }
    int listen_port = std::atoi(argv[1]);
    int target_port = std::atoi(argv[2]);
    auto delay = std::chrono::microseconds(static_cast<long>(std::atof(argv[3]) * 1000));
    int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(listen_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(lfd, 128) != 0) {
        std::perror("delay_proxy: listen");
        return 1;
    }
    for (;;) {
        int client = ::accept(lfd, nullptr, nullptr);
        if (client < 0) {
            continue;
        }
        int server = connect_to(target_port);
        if (server < 0) {
            ::close(client);
            continue;
        }
        for (int fd : {client, server}) {
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        std::thread([client, server, delay] {
            std::thread back([client, server, delay] { pump(server, client, delay); });
            pump(client, server, delay);
            back.join();
            ::close(client);
            ::close(server);
        }).detach();
    }
}
