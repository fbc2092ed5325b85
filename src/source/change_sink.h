#pragma once

#include "core/mutation.h"
#include "core/position.h"

#include <cstdint>
#include <functional>

namespace rep::source {

// What a source reader hands its transactions to, in source commit order: begin, any number
// of changes and truncates, commit; keepalives only between transactions. The end of the
// chain is the TransactionEmitter, which turns these calls into queue items; stages
// (row_stage.h) may sit in between. Calls may block while the queue is full. Not thread-safe:
// the reader thread owns its sink.
class ChangeSink {
public:
    virtual ~ChangeSink() = default;

    // A transaction begins. `id` identifies it (ChangeItem::position at kBegin): its ordinal
    // orders it among the source's commits, its text names it where the ordinal does not.
    virtual void begin(uint32_t xid, Position id, int64_t commit_time_us) = 0;
    // One row change of the open transaction.
    virtual void change(Mutation mutation) = 0;
    // A TRUNCATE in the open transaction.
    virtual void truncate(Truncate truncate) = 0;
    // The open transaction ends; `end` is where the source stands after it, spelled as the
    // memo checkpoint stores it.
    virtual void commit(Position end, int64_t commit_time_us) = 0;
    // Between transactions: nothing before `position` is still to come.
    virtual void keepalive(Position position) = 0;

    // What the sink calls about every 100 ms while it waits for room downstream, so that a
    // reader can keep its source connection alive during a long apply (PostgreSQL's standby
    // status updates). Stages pass it on to the end of the chain.
    virtual void while_waiting(std::function<void()> hook) = 0;
};

}  // namespace rep::source
