#pragma once

#include "sequencer/apply_context.h"
#include "sequencer/group_applier.h"
#include "util/target_session.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace rep::sequencer {

// How committed groups become durable in the staging memo (docs/staging.md §4), chosen once
// per pipeline run: with one apply connection groups commit in source order and the plain
// checkpoint row is exact (PlainCheckpointer); with several they commit out of order and
// each worker also writes a record of its own (RecordCheckpointer). Workers call it from
// their threads, the dispatcher from its own; implementations are thread-safe.
class Checkpointer {
public:
    virtual ~Checkpointer() = default;

    // Worker `worker`, just before COMMIT: the memo rows (key, value) to upsert in the same
    // target transaction as the group's data. Empty when the memo is in another database.
    virtual std::vector<std::pair<std::string, std::string>> rows(size_t worker,
                                                                  const GroupSpan& span) = 0;
    // Worker, after its COMMIT of `span` and before the group counts as done: writes what must
    // follow the commit (a separate staging database) and tells Progress what the checkpoint
    // now proves (Progress::recorded).
    virtual void committed(size_t worker, const GroupSpan& span) = 0;
    // Worker, after a COMMIT whose outcome is in doubt: whether the rows written with it show
    // that the group committed (false when nothing was written with it). Throws rep::Error if
    // the target cannot be read.
    virtual bool landed(util::TargetSession& session, size_t worker, const GroupSpan& span) = 0;
    // Dispatcher, on its own session, about once a second and with `final` when the run ends,
    // with the contiguous committed prefix. `idle`: no group is being applied, so no worker
    // writes the memo meanwhile; then positions passed with nothing to apply (keepalives,
    // other tables' transactions) are recorded, so the slot may confirm them.
    virtual void tick(util::TargetSession& session, const Position& prefix, bool idle,
                      bool final) = 0;
    // Whether each group's checkpoint row names exactly its end, written in its own
    // transaction, so that a group chained behind it can check that it committed
    // (CommitHooks::chains).
    virtual bool chains() const { return false; }
};

// Writes `prefix` to the plain memo row outside any group, on `session` or on the staging
// session when the memo is in another database, and tells Progress. A failure is logged, not
// thrown (the next tick, or the records, still hold the position); returns whether it worked.
bool write_plain_row(const ApplyContext& context, util::TargetSession& session,
                     const Position& prefix);

}  // namespace rep::sequencer
