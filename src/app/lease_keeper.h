#pragma once

#include "staging/lease.h"
#include "util/pg_conn.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace rep::app {

// This process's name as a lease holder: host, pid and the process's start time, so that a
// process of the same machine can tell that the holder is gone (holder_is_gone).
std::string lease_holder_name();
// Whether `holder` (a lease_holder_name()) names a process of this machine that no longer
// runs: its pid is gone or now belongs to a process started at another time. False for
// another machine's holder, or a name it cannot read.
bool holder_is_gone(const std::string& holder);

// Holds the stream's lease (staging/lease.h) for this process: waits for it as a standby,
// then renews it every TTL/5 on a thread and a connection of its own, and gives it up at a
// clean stop. If the lease is taken over, or cannot be renewed for half the TTL, it sets
// revoked() and lost() says why: no COMMIT is sent from then on (TransactionFence), the
// pipeline run ends, and the runner waits for the lease again. With the memo in the target
// every transaction is also fenced by the database.
class LeaseKeeper {
public:
    // `connect` opens a new staging connection for the renewals; `on_standby` is told what
    // this process waits for while another holds the lease ("" once it holds it);
    // `end_sessions(holder)` ends the target sessions of a holder whose lease is taken over.
    LeaseKeeper(staging::StreamLease& lease, std::function<std::unique_ptr<util::PgConn>()> connect,
                std::function<void(const std::string&)> on_standby,
                std::function<void(const std::string&)> end_sessions = {});
    ~LeaseKeeper();
    LeaseKeeper(const LeaseKeeper&) = delete;
    LeaseKeeper& operator=(const LeaseKeeper&) = delete;

    // Waits until this process holds the lease (true) or a stop is requested (false), and
    // sets *previous to the holder it took the lease over from ("" if none). Throws
    // rep::Error (retryable for a lost connection or a race with another standby).
    bool acquire(util::TargetSession& conn, std::string* previous);
    // Starts renewing.
    void start();
    // Stops renewing; gives the lease up if `release` and it was not lost.
    void stop(bool release);
    // Why the lease was lost, or "" while it is held.
    std::string lost() const;
    // Marks the lease lost for `why` (the database fence found another holder first).
    void revoke(const std::string& why) { lose(why); }
    // Set once the lease is lost (TransactionFence::revoked).
    const std::atomic<bool>& revoked() const { return revoked_; }

private:
    void renew_loop();
    // Stops the process's writing once no renewal has succeeded for half the TTL, however
    // long a renewal blocks on a dead network.
    void watch_loop();
    void lose(const std::string& why);

    staging::StreamLease& lease_;
    std::function<std::unique_ptr<util::PgConn>()> connect_;
    std::function<void(const std::string&)> on_standby_;
    std::function<void(const std::string&)> end_sessions_;
    std::unique_ptr<util::PgConn> conn_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> revoked_{false};
    std::thread thread_;
    std::thread watch_;
    // When the last successful renewal was sent (steady clock, nanoseconds).
    std::atomic<int64_t> renewed_at_{0};
    mutable std::mutex mu_;
    std::string lost_;
    std::string last_error_;
};

}  // namespace rep::app
