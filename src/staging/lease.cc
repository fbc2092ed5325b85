#include "staging/lease.h"

#include "base/error.h"

#include <fmt/format.h>

#include <chrono>

namespace rep::staging {
namespace {

std::string interval(Duration d) {
    return fmt::format("{} milliseconds",
                       std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

StreamLease::StreamLease(const target::Dialect& dialect, std::string schema_sql, std::string key,
                         std::string holder, Duration ttl)
    : dialect_(dialect),
      table_(schema_sql + ".stream_lease"),
      key_(std::move(key)),
      holder_(std::move(holder)),
      ttl_(ttl) {
    // The count is of rows this holder still holds at this epoch: 0 if another took over
    // (or the row is gone), and then the division fails the transaction. The row lock is
    // taken in a subquery, where aggregates do not forbid it.
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

StreamLease::Attempt StreamLease::try_acquire(
    util::TargetSession& conn, const HolderCheck& dead,
    const std::function<void(const std::string&)>& before_takeover) {
    Attempt out;
    // A look first, without locks: a standby polls, and should not queue behind (or hold up)
    // the holder's transactions while the lease is plainly held.
    auto held = conn.query(
        fmt::format("SELECT holder, EXTRACT(EPOCH FROM expires - now())::FLOAT8 FROM {} WHERE "
                    "key = $1",
                    table_),
        {key_});
    if (!held.empty()) {
        std::string holder = held[0].at(0).value_or("");
        double left = std::stod(held[0].at(1).value_or("0"));
        if (!holder.empty() && holder != holder_ && left > 0 && !(dead && dead(holder))) {
            out.holder = holder;
            out.seconds_left = left;
            return out;
        }
        if (!holder.empty() && holder != holder_ && before_takeover) {
            before_takeover(holder);
        }
    }
    conn.execute("BEGIN");
    try {
        conn.execute(fmt::format("INSERT INTO {} (key, holder, epoch, expires) VALUES ($1, '', 0, "
                                 "now()) ON CONFLICT (key) DO NOTHING",
                                 table_),
                     {key_});
        // FOR UPDATE waits for the KEY SHARE locks of the holder's open transactions.
        auto rows = conn.query(
            fmt::format("SELECT holder, epoch::text, EXTRACT(EPOCH FROM expires - now())::FLOAT8 "
                        "FROM {} WHERE key = $1 FOR UPDATE",
                        table_),
            {key_});
        if (rows.empty()) {
            throw Error(ErrorKind::kRetryable, "the lease row of " + key_ + " vanished");
        }
        std::string holder = rows[0].at(0).value_or("");
        int64_t epoch = std::stoll(rows[0].at(1).value_or("0"));
        double left = std::stod(rows[0].at(2).value_or("0"));
        if (holder != holder_ && left > 0 && !holder.empty() && !(dead && dead(holder))) {
            conn.execute("ROLLBACK");
            out.holder = holder;
            out.seconds_left = left;
            return out;
        }
        conn.execute(fmt::format("UPDATE {} SET holder = $2, epoch = $3::INT8, expires = now() + "
                                 "$4::INTERVAL WHERE key = $1",
                                 table_),
                     {key_, holder_, std::to_string(epoch + 1), interval(ttl_)});
        conn.execute("COMMIT");
        epoch_ = epoch + 1;
        out.acquired = true;
        out.epoch = epoch_;
        return out;
    } catch (const Error&) {
        try {
            conn.execute("ROLLBACK");
        } catch (const Error&) {
        }
        throw;
    }
}

bool StreamLease::renew(util::TargetSession& conn) {
    auto rows = conn.query(fmt::format("UPDATE {} SET expires = now() + $4::INTERVAL WHERE key = "
                                       "$1 AND holder = $2 AND epoch = $3::INT8 RETURNING 1",
                                       table_),
                           {key_, holder_, std::to_string(epoch_), interval(ttl_)});
    return !rows.empty();
}

void StreamLease::release(util::TargetSession& conn) {
    conn.execute(fmt::format("UPDATE {} SET expires = now() WHERE key = $1 AND holder = $2 AND "
                             "epoch = $3::INT8",
                             table_),
                 {key_, holder_, std::to_string(epoch_)});
}

std::vector<std::string> StreamLease::fence_params() const {
    return {key_, holder_, std::to_string(epoch_)};
}

}  // namespace rep::staging
