#pragma once

#include "base/duration.h"
#include "core/change_item.h"
#include "staging/parallel_checkpoint.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace rep::sequencer {

// A run of consecutive whole source transactions applied as one target transaction.
struct Group {
    std::vector<ChangeItem> items;
    std::vector<uint64_t> keys;  // conflict keys, duplicates allowed
    size_t rows = 0;
    size_t txns = 0;
    size_t bytes = 0;  // of its row changes' values (ChangeItem::bytes)
    // Runs alone (a TRUNCATE, a transaction whose keys cannot be derived, or one too large to
    // hold, which is streamed).
    bool barrier = false;
    OrdinalRange txn_ids;  // identities of its first and last transaction
    // Where the source stands after it: its last commit, or a transaction after it that had
    // nothing to apply.
    Position end;
    std::chrono::steady_clock::time_point started;
};

// Forms groups from the items a source sends, in source order (docs/architecture.md §2.8).
// Pure: no I/O, no threads; conflict keys come from `keys`, time from the caller.
//
// Small transactions join the group being formed; the dispatcher takes it (take()) once it is
// due(): it holds --flushSize rows or --timestampLimit transactions, or is --flushPeriod old;
// or earlier, when the apply side is idle and waiting would gain nothing. A transaction over
// --flushSize rows is not held: it is streamed to one worker as it arrives (kStreamStart,
// kStreamItem..., kStreamEnd). Transactions already applied (`applied`) are dropped; those with
// nothing to apply only move the position.
class Grouper {
public:
    struct Limits {
        size_t flush_size = 1000;
        size_t timestamp_limit = 1000;
        Duration flush_period = std::chrono::seconds(1);
    };
    // What the dispatcher must do, in order.
    struct Step {
        enum class Kind {
            kDispatch,     // `group` goes to a worker now
            kStreamStart,  // `group` (a barrier) starts streaming: more items follow
            kStreamItem,   // `item` joins the streaming group
            kStreamEnd,    // `item` (the commit) ends the streaming group at `position`
            kPass,         // nothing to apply up to `position`
        };
        Kind kind;
        Group group;
        ChangeItem item;
        Position position;
    };
    // Appends the conflict keys of a kChanges item; false if they cannot be derived.
    using KeyFn = std::function<bool(const ChangeItem&, std::vector<uint64_t>&)>;

    // `applied` may be null (nothing to skip); `codec` names transactions in messages.
    Grouper(Limits limits, const PositionCodec& codec, const staging::AppliedSet* applied,
            KeyFn keys);

    // Takes the next item; appends what must happen because of it to `steps`.
    void add(ChangeItem item, std::chrono::steady_clock::time_point now, std::vector<Step>& steps);
    // Whether the group being formed is full or old enough to go. `growth` scales --flushSize
    // (not --timestampLimit, a maximum, nor --flushPeriod) for a group the dispatcher lets grow
    // while every worker is busy.
    bool due(std::chrono::steady_clock::time_point now, size_t growth = 1) const;
    // The group being formed, whatever its size; nullopt while a transaction is open (its
    // group may only go with it) or when there is none.
    std::optional<Group> take();

    bool in_transaction() const { return in_txn_; }
    bool forming() const { return !group_.items.empty(); }
    // The group being formed: its row changes, and the bytes of their values.
    size_t forming_rows() const { return group_.rows; }
    size_t forming_bytes() const { return group_.bytes; }

private:
    void close_transaction(ChangeItem commit, std::chrono::steady_clock::time_point now,
                           std::vector<Step>& steps);
    void dispatch_group(std::vector<Step>& steps);

    Limits limits_;
    const PositionCodec& codec_;
    const staging::AppliedSet* applied_;
    KeyFn keys_;
    Group group_;  // being formed
    Group txn_;    // the source transaction being read
    bool in_txn_ = false;
    bool skipping_ = false;   // the transaction is in `applied_`
    bool streaming_ = false;  // the transaction is being streamed as a barrier
};

}  // namespace rep::sequencer
