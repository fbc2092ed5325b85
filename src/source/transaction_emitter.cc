#include "source/transaction_emitter.h"

#include <chrono>

namespace rep::source {

TransactionEmitter::TransactionEmitter(util::BoundedQueue<ChangeItem>& queue, size_t chunk_rows,
                                       const std::atomic<bool>& stop)
    : queue_(queue), chunk_rows_(chunk_rows == 0 ? 1 : chunk_rows), stop_(stop) {}

void TransactionEmitter::push(ChangeItem item) {
    // Wait for room in short slices, so the reader can keep its source connection alive.
    while (!stop_.load()) {
        if (queue_.push_for(item, std::chrono::milliseconds(100)) || queue_.closed()) {
            return;
        }
        if (waiting_) {
            waiting_();
        }
    }
}

void TransactionEmitter::flush_chunk() {
    if (chunk_.mutations.empty()) {
        return;
    }
    chunk_.kind = ChangeItem::Kind::kChanges;
    chunk_.xid = xid_;
    push(std::move(chunk_));
    chunk_ = ChangeItem{};
}

void TransactionEmitter::begin(uint32_t xid, Position id, int64_t commit_time_us) {
    xid_ = xid;
    ChangeItem item;
    item.kind = ChangeItem::Kind::kBegin;
    item.xid = xid;
    item.position = std::move(id);
    item.commit_time_us = commit_time_us;
    push(std::move(item));
}

void TransactionEmitter::change(Mutation mutation) {
    chunk_.bytes += ChangeItem::bytes_of(mutation);
    chunk_.mutations.push_back(std::move(mutation));
    if (chunk_.mutations.size() >= chunk_rows_) {
        flush_chunk();
    }
}

void TransactionEmitter::truncate(Truncate truncate) {
    flush_chunk();  // the truncate comes after the changes before it
    ChangeItem item;
    item.kind = ChangeItem::Kind::kTruncate;
    item.xid = xid_;
    item.truncate = std::move(truncate);
    push(std::move(item));
}

void TransactionEmitter::commit(Position end, int64_t commit_time_us) {
    flush_chunk();
    ChangeItem item;
    item.kind = ChangeItem::Kind::kCommit;
    item.xid = xid_;
    item.position = std::move(end);
    item.commit_time_us = commit_time_us;
    push(std::move(item));
}

void TransactionEmitter::keepalive(Position position) {
    ChangeItem item;
    item.kind = ChangeItem::Kind::kKeepalive;
    item.position = std::move(position);
    push(std::move(item));
}

}  // namespace rep::source
