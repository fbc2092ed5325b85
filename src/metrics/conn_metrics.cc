// MOLT's pool_* and stmtcache_* metrics from what the SQL connections report
// (util/conn_observer.h). A "pool" is the connections of one role: "target" (the apply
// workers' sessions, the monitor's and the lease's target session), "staging", "source".

#include "metrics/probe_impl.h"

namespace rep::metrics {

void Probe::Impl::add_pool(const std::string& pool) {
    if (pools.count(pool) != 0) {
        return;
    }
    pools[pool];
    prometheus::Labels labels{{"pool", pool}};
    pool_acquired.Add(labels).Set(0);
    pool_idle.Add(labels).Set(0);
    pool_wait.Add(labels);
    pool_dial.Add(labels, kLatencyBuckets);
    pool_dial_ok.Add(labels);
    pool_dial_err.Add(labels);
}

void Probe::Impl::dialed(const std::string& pool, double seconds, bool ok) {
    std::lock_guard lock(pools_mu);
    add_pool(pool);
    prometheus::Labels labels{{"pool", pool}};
    // Every connection here is opened when its owner needs it, so the time spent dialling is
    // the time spent waiting to acquire one.
    pool_wait.Add(labels).Increment(seconds);
    if (ok) {
        pool_dial.Add(labels, kLatencyBuckets).Observe(seconds);
        pool_dial_ok.Add(labels).Increment();
    } else {
        pool_dial_err.Add(labels).Increment();
    }
}

void Probe::Impl::state_changed(const std::string& pool, int open_delta, int acquired_delta) {
    std::lock_guard lock(pools_mu);
    add_pool(pool);
    PoolCounts& c = pools[pool];
    c.open += open_delta;
    c.acquired += acquired_delta;
    prometheus::Labels labels{{"pool", pool}};
    pool_acquired.Add(labels).Set(static_cast<double>(c.acquired));
    pool_idle.Add(labels).Set(static_cast<double>(c.open - c.acquired));
}

void Probe::Impl::statement_cache(bool hit) {
    (hit ? stmt_hits : stmt_misses).Increment();
}

}  // namespace rep::metrics
