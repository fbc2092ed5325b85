#include "staging/lease.h"

#include "base/error.h"
#include "util/transaction.h"

#include <fmt/format.h>

#include <chrono>

namespace rep::staging {
namespace {

std::string interval(Duration d) {
    return fmt::format("{} milliseconds",
                       std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

StreamLease::StreamLease(const target::Dialect& dialect, const std::string& schema_sql,
                         std::string key, std::string holder, Duration ttl)
    : dialect_(dialect),
      table_(schema_sql + ".stream_lease"),
      key_(std::move(key)),
      renewal_key_(key_ + "#renewal"),
      holder_(std::move(holder)),
      ttl_(ttl) {
    // The count is of rows this holder still holds at this epoch: 0 if another took over
    // (or the row is gone), and then the division fails the transaction (SQLSTATE 22012).
    // The row lock is taken in a subquery, where aggregates do not forbid it. The fence row
    // is written only by a takeover; renewals write the other row, so that on CockroachDB a
    // long transaction whose timestamp is pushed does not find its fence read overwritten
    // by its own process's renewal.
    bool cockroach = dialect_.product() == target::TargetProduct::kCockroach;
    fence_sql_ = fmt::format(
        "SELECT 1 / (SELECT count(*) FROM (SELECT 1 FROM {} WHERE key = $1 AND holder = $2 AND "
        "epoch = $3::INT8{}) AS held)::INT",
        table_, cockroach ? "" : " FOR KEY SHARE");
}

void StreamLease::ensure(util::TargetSession& conn) {
    bool cockroach = dialect_.product() == target::TargetProduct::kCockroach;
    conn.execute(fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (key {} PRIMARY KEY, holder {} NOT NULL, epoch INT8 NOT "
        "NULL, expires TIMESTAMPTZ NOT NULL)",
        table_, cockroach ? "STRING" : "TEXT", cockroach ? "STRING" : "TEXT"));
}

StreamLease::Attempt StreamLease::try_acquire(util::TargetSession& conn, const HolderCheck& dead,
                                              const HolderAction& before_takeover) {
    Attempt out;
    auto held_by_another = [&](const std::string& holder, double left) {
        return !holder.empty() && holder != holder_ && left > 0 && !(dead && dead(holder));
    };
    // A look first, without locks: a standby polls, and should not queue behind (or hold up)
    // the holder's transactions while the lease is plainly held.
    const std::string look = fmt::format(
        "SELECT holder, epoch::text, EXTRACT(EPOCH FROM expires - clock_timestamp())::FLOAT8 FROM "
        "{} WHERE key = $1",
        table_);
    auto renewal = conn.query(look, {renewal_key_});
    std::string previous;
    if (!renewal.empty()) {
        previous = renewal[0].at(0).value_or("");
        double left = std::stod(renewal[0].at(2).value_or("0"));
        if (held_by_another(previous, left)) {
            out.holder = previous;
            out.seconds_left = left;
            return out;
        }
        if (!previous.empty() && before_takeover) {
            before_takeover(previous);
        }
    }
    util::Transaction txn(conn);
    conn.execute(fmt::format("INSERT INTO {} (key, holder, epoch, expires) VALUES ($1, '', 0, "
                             "now()), ($2, '', 0, now()) ON CONFLICT (key) DO NOTHING",
                             table_),
                 {key_, renewal_key_});
    // FOR UPDATE on the fence row waits for the KEY SHARE locks of the holder's open
    // transactions (PostgreSQL); then the renewal row says whether the lease is still held.
    auto fence = conn.query(
        fmt::format("SELECT epoch::text FROM {} WHERE key = $1 FOR UPDATE", table_), {key_});
    auto now = conn.query(look + " FOR UPDATE", {renewal_key_});
    if (fence.empty() || now.empty()) {
        throw Error(ErrorKind::kRetryable, "the lease rows of " + key_ + " vanished");
    }
    std::string holder = now[0].at(0).value_or("");
    double left = std::stod(now[0].at(2).value_or("0"));
    if (held_by_another(holder, left)) {
        txn.rollback();
        out.holder = holder;
        out.seconds_left = left;
        return out;
    }
    int64_t epoch = std::stoll(fence[0].at(0).value_or("0")) + 1;
    // The expiry from the clock now, not the transaction's start: the lock wait may have
    // been long.
    conn.execute(fmt::format("UPDATE {} SET holder = $2, epoch = $3::INT8, expires = "
                             "clock_timestamp() + $4::INTERVAL WHERE key IN ($1, $5)",
                             table_),
                 {key_, holder_, std::to_string(epoch), interval(ttl_), renewal_key_});
    txn.commit();
    epoch_ = epoch;
    out.acquired = true;
    out.epoch = epoch_;
    out.previous = holder == holder_ ? "" : holder;
    return out;
}

bool StreamLease::renew(util::TargetSession& conn) {
    auto rows = conn.query(fmt::format("UPDATE {} SET expires = clock_timestamp() + $4::INTERVAL "
                                       "WHERE key = $1 AND holder = $2 AND epoch = $3::INT8 "
                                       "RETURNING 1",
                                       table_),
                           {renewal_key_, holder_, std::to_string(epoch_), interval(ttl_)});
    return !rows.empty();
}

void StreamLease::release(util::TargetSession& conn) {
    conn.execute(fmt::format("UPDATE {} SET expires = clock_timestamp() WHERE key = $1 AND holder "
                             "= $2 AND epoch = $3::INT8",
                             table_),
                 {renewal_key_, holder_, std::to_string(epoch_)});
}

std::vector<std::string> StreamLease::fence_params() const {
    return {key_, holder_, std::to_string(epoch_)};
}

}  // namespace rep::staging
