#pragma once

#include "core/change_item.h"
#include "source/change_sink.h"
#include "util/bounded_queue.h"

#include <atomic>
#include <cstddef>
#include <functional>

namespace rep::source {

// The end of every source's sink chain: turns begin/change/commit calls into ChangeItems on
// the bounded queue between the reader and the apply side. Row changes go out in kChanges
// items of at most --flushSize rows, so a huge transaction is never held whole and memory
// stays bounded by the queue. A full queue blocks the caller, in slices of 100 ms between
// which the while_waiting() hook runs; once `stop` is set or the queue is closed, items are
// dropped (the pipeline is ending, and the source sends them again on the next run).
class TransactionEmitter final : public ChangeSink {
public:
    TransactionEmitter(util::BoundedQueue<ChangeItem>& queue, size_t chunk_rows,
                       const std::atomic<bool>& stop);

    void begin(uint32_t xid, Position id, int64_t commit_time_us) override;
    void change(Mutation mutation) override;
    void truncate(Truncate truncate) override;
    void commit(Position end, int64_t commit_time_us) override;
    void keepalive(Position position) override;
    void while_waiting(std::function<void()> hook) override { waiting_ = std::move(hook); }

private:
    void push(ChangeItem item);
    void flush_chunk();

    util::BoundedQueue<ChangeItem>& queue_;
    size_t chunk_rows_;
    const std::atomic<bool>& stop_;
    std::function<void()> waiting_;
    uint32_t xid_ = 0;  // of the open transaction
    ChangeItem chunk_;  // row changes not yet pushed
};

}  // namespace rep::source
