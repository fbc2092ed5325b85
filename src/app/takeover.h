#pragma once

#include "app/config.h"
#include "app/lease_keeper.h"
#include "app/monitor.h"
#include "source/source.h"
#include "staging/lease.h"
#include "target/dialect.h"
#include "util/pg_conn.h"

#include <memory>
#include <string>

namespace rep::app {

// Waits as a standby until this process holds the stream's lease (`lease`, on the `staging`
// connection), riding through outages of the staging database; taking it over from a holder
// (this process's earlier turn included), ends that holder's target sessions of the stream
// (PostgreSQL), and, from another process, what it still holds at the source, and checks the
// source again. Returns the keeper that renews the lease
// from now on, or null if a stop was requested while waiting. `key`: the stream's memo key.
std::unique_ptr<LeaseKeeper> hold_the_lease(const CommonConfig& config, staging::StreamLease& lease,
                                            util::PgConn& staging, util::PgConn& target,
                                            const target::Dialect& dialect, Monitor& monitor,
                                            source::Source& source, const std::string& key);

}  // namespace rep::app
