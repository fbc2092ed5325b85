#pragma once

#include <string>

namespace rep::util {

// What the process's SQL connections report for MOLT's pool_* and stmtcache_* metrics. MOLT
// keeps pgx pools named "target" and "staging"; here every worker, the monitor and the
// memo own their connection, so a "pool" is the set of connections with one role (PgConn's
// `what`), a connection is "acquired" while it runs a statement or holds a transaction open,
// and "idle" while it is connected and doing neither. The metrics module implements it; the
// connections know only this interface. Calls come from many threads.
class ConnObserver {
public:
    virtual ~ConnObserver() = default;
    // A connection attempt ended after `seconds`, connected or not.
    virtual void dialed(const std::string& pool, double seconds, bool ok) = 0;
    // A connection moved between closed, idle and acquired (each change reported once).
    virtual void state_changed(const std::string& pool, int open_delta, int acquired_delta) = 0;
    // A named statement was found prepared on its connection (hit) or had to be prepared.
    virtual void statement_cache(bool hit) = 0;
};

// The process's observer (none by default). Install before the connections it should see
// are opened, and keep it alive until they are closed.
void set_conn_observer(ConnObserver* observer);
ConnObserver* conn_observer();

}  // namespace rep::util
