#pragma once

#include "base/duration.h"
#include "target/dialect.h"
#include "util/target_session.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rep::staging {

// One active instance per stream: two rows per memo key in the staging schema's
// `stream_lease` table (key, holder, epoch, expires) say which process may apply the stream
// (the fence row, under the memo key, written only when the lease changes hands) and until
// when (the renewal row, under the memo key + "#renewal", whose expiry the holder extends).
// A second process started with the same arguments waits as a standby and takes the lease
// over once it has expired. Times are the staging database's clock, so the processes' clocks
// do not matter.
//
// The lease fences the target, not only the processes: every target transaction of the
// holder starts with fence_sql(), which fails unless this process still holds this epoch of
// the lease, and (PostgreSQL) keeps a KEY SHARE lock on the row until the transaction ends. A
// takeover locks the row FOR UPDATE, so it waits for every transaction of the old holder that
// got past its fence, and any that comes after finds the new holder and fails: the new holder
// reads the checkpoint only once nothing of the old one can commit any more. On CockroachDB,
// whose sessions run SERIALIZABLE, a transaction that read the old holder can only commit
// before the takeover's write. See docs/staging.md §8.
class StreamLease {
public:
    StreamLease(const target::Dialect& dialect, const std::string& schema_sql, std::string key,
                std::string holder, Duration ttl);

    // Creates the lease table if it is missing (in an existing staging schema).
    void ensure(util::TargetSession& conn);

    struct Attempt {
        bool acquired = false;
        std::string holder;       // the holder when not acquired
        double seconds_left = 0;  // until the holder's lease expires
        int64_t epoch = 0;        // this process's epoch when acquired
        std::string previous;     // when acquired: the holder it was taken over from, if any
    };
    // One try, in a transaction of its own: takes the lease if it is free, expired, already
    // this process's, or its holder is known to be dead (`dead(holder)`: a process of this
    // machine that is gone), else says who holds it. Before taking it over from a holder (this
    // process in an earlier turn included), `before_takeover(holder)` may end that holder's
    // sessions, whose open transactions the takeover would otherwise wait for.
    using HolderCheck = std::function<bool(const std::string&)>;
    using HolderAction = std::function<void(const std::string&)>;
    Attempt try_acquire(util::TargetSession& conn, const HolderCheck& dead = {},
                        const HolderAction& before_takeover = {});
    // Extends this process's lease by the TTL. Returns false if it holds it no more.
    bool renew(util::TargetSession& conn);
    // Gives the lease up (expires it now) so a standby takes over at once.
    void release(util::TargetSession& conn);

    // The fence statement and its parameters (see above); it fails with SQLSTATE 22012 when
    // the lease is not this process's any more.
    const std::string& fence_sql() const { return fence_sql_; }
    std::vector<std::string> fence_params() const;

    const std::string& table_sql() const { return table_; }
    const std::string& key() const { return key_; }
    const std::string& holder() const { return holder_; }
    int64_t epoch() const { return epoch_; }
    Duration ttl() const { return ttl_; }

private:
    const target::Dialect& dialect_;
    std::string table_;
    std::string key_;
    std::string renewal_key_;
    std::string holder_;
    Duration ttl_;
    int64_t epoch_ = 0;
    std::string fence_sql_;
};

}  // namespace rep::staging
