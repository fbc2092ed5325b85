#pragma once

#include "core/position.h"
#include "staging/parallel_checkpoint.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace rep::sequencer {

// The bookkeeping of parallel apply (docs/architecture.md §2.8), shared by the dispatcher
// and the workers under one lock. Pure: no I/O, so the rules are unit-tested directly.
//
// Groups (runs of consecutive source transactions, one target transaction each) are assigned
// to workers in source order. A group may run on any worker unless it shares a conflict key
// (a table's primary key value, a row that foreign keys reference, or a whole group of
// order-sensitive tables) with a group not yet committed, one of the two holding it
// exclusively: then it must queue behind that group on the same worker, so every key sees
// its changes in source order. If its keys are held by two different workers: with ordered
// commits it queues behind the newer of the groups holding them (that one commits only after
// every earlier group has, so once it has, all of them have); without, it waits until one of
// them commits. A barrier group (TRUNCATE, or a transaction too large to hold) runs
// alone: it waits until everything before it has committed, and nothing starts until it has.
//
// With `ordered` commits (the default) groups still execute at once on their workers, but
// each COMMIT waits for its turn: until every group dispatched before it has committed. The
// target is then at every instant the result of a prefix of the source's history, and the
// plain checkpoint row is exact whatever the number of workers. Without it, independent
// groups commit in any order, and the per-worker checkpoint records make that exactly-once.
//
// The schedule also derives the contiguous committed prefix (what may be confirmed to the
// source) and the per-worker checkpoint records of unordered commits.
class Schedule {
public:
    using Keys = std::vector<uint64_t>;  // conflict keys, deduplicated and sorted

    // A key that conflicts with every other: a group holding it was formed without its keys
    // (the dispatcher skips them while one connection takes every group). It queues behind
    // the newest group in flight, and every group after it queues behind it, until it has
    // committed. (A real key's hash equal to it would only serialize that group needlessly.)
    static constexpr uint64_t kEveryKey = std::numeric_limits<uint64_t>::max();

    // A key is held exclusively or shared (its top bit set): groups that hold one key only
    // shared do not conflict through it (two child rows referencing one parent row); a group
    // that holds it exclusively conflicts with every other holder (the parent row's insert
    // or delete). With unordered commits every key counts as exclusive: the rule "held by two
    // workers: wait" knows the newest holder only.
    static constexpr uint64_t kSharedBit = uint64_t{1} << 63;
    static uint64_t exclusive(uint64_t hash) { return hash & ~kSharedBit; }
    static uint64_t shared(uint64_t hash) { return hash | kSharedBit; }
    static bool is_shared(uint64_t key) { return key != kEveryKey && (key & kSharedBit) != 0; }
    static uint64_t base(uint64_t key) { return key == kEveryKey ? key : exclusive(key); }
    // Sorts and deduplicates keys; a key held both ways is held exclusively.
    static void normalize(Keys& keys);

    // `window`: most groups that may be dispatched beyond the committed prefix, which bounds
    // the size of the checkpoint records; `window_rows` and `window_bytes`: most row changes
    // in them, and bytes of their values, which bound memory however large groups grow and
    // however wide their rows (a group larger than that alone still goes, when nothing else
    // is beyond the prefix). The prefix starts at `start`.
    Schedule(size_t workers, size_t window, Position start, bool ordered = true,
             size_t window_rows = std::numeric_limits<size_t>::max(),
             size_t window_bytes = std::numeric_limits<size_t>::max());

    // Dispatcher. Waits up to `timeout` until the group can be assigned, and assigns it.
    // Returns the worker, or nullopt on timeout or abort(). `txns` are the identities of its
    // first and last transaction; `end` is where the source stands after its last, or empty
    // for a barrier whose end is not known yet (see finish()). `*shared` (if given) is set
    // once the group is seen sharing a key with an uncommitted group, and never cleared, so
    // it survives repeated calls for one group. `rows`, `bytes`: its row changes and the
    // bytes of their values, for the window.
    std::optional<size_t> assign(const Keys& keys, bool barrier, OrdinalRange txns,
                                 const Position& end, std::chrono::milliseconds timeout,
                                 bool* shared = nullptr, size_t rows = 0, size_t bytes = 0);
    // Dispatcher: sets the end of the newest group once its last commit has arrived, and the
    // row changes it held (counted in committed_rows()).
    void finish(const Position& end, size_t rows = 0);
    // Dispatcher: a position with nothing to apply (an empty or already applied transaction,
    // a keepalive); it joins the prefix once everything dispatched before it has committed.
    // Returns the prefix.
    Position pass(const Position& end);

    // Worker, before the COMMIT of its oldest group: waits up to `timeout` until every group
    // dispatched before that one has committed (at once without ordered commits). With
    // `own_ahead` = n, for its (n+1)th oldest group instead: ready when every group before it
    // not yet committed is one of the worker's own n before it, whose COMMITs went out on its
    // connection already (chaining, docs/architecture.md §2.8).
    enum class Turn { kReady, kTimeout, kAborted };
    Turn await_turn(size_t worker, std::chrono::milliseconds timeout, size_t own_ahead = 0);

    // Worker, in its target transaction just before COMMIT: the record to write with it.
    staging::WorkerRecord record_for(size_t worker, OrdinalRange committing) const;
    // Worker, after COMMIT of its oldest group. `committed` is what it actually committed: a
    // shorter range than assigned (a failing transaction was cut off) is recorded but does not
    // complete the group. Returns the prefix.
    Position committed(size_t worker, OrdinalRange committed);

    // Wakes and fails every wait from now on (a worker failed or a stop was requested).
    void abort();
    bool aborted() const;

    // Dispatcher: how many workers (the first ones) take groups that share no key with one in
    // flight (WorkerLimit); a group that does still goes to the worker holding its keys.
    void set_active(size_t workers);
    // Dispatcher: a new window, in groups and row changes (as in the constructor), for the
    // groups assigned from now on; those beyond it already stay.
    void set_window(size_t window, size_t window_rows);
    // Row changes of the groups committed so far, a running total.
    uint64_t committed_rows() const;

    Position prefix() const;
    size_t in_flight() const;               // groups dispatched but not committed
    size_t in_flight(size_t worker) const;  // of one worker
    size_t busy_workers() const;            // workers with a group in flight

private:
    struct Group {
        uint64_t seq = 0;
        size_t worker = 0;
        OrdinalRange txns;
        Position end;
        Keys keys;
        size_t rows = 0;
        size_t bytes = 0;
        bool barrier = false;
        bool passthrough = false;
        bool done = false;
    };
    struct WorkerState {
        std::deque<uint64_t> pending;  // its groups not yet committed, in order
        // Committed beyond the prefix, with the ordinal of the group's end.
        std::vector<std::pair<OrdinalRange, Ordinal>> committed;
    };

    std::optional<size_t> choose(const Keys& keys, bool barrier, size_t rows, size_t bytes,
                                 bool* shared) const;
    bool first_in_line(size_t worker, size_t own_ahead) const;  // under the lock
    Group* find(uint64_t seq);
    Position advance_prefix();  // under the lock

    mutable std::mutex mu_;
    std::condition_variable changed_;
    size_t window_;
    size_t window_rows_;
    size_t window_bytes_;
    size_t active_;
    uint64_t committed_rows_ = 0;
    size_t rows_beyond_ = 0;   // row changes of the groups in groups_
    size_t bytes_beyond_ = 0;  // bytes of their values (dispatched groups; streams run alone)
    bool ordered_;
    bool aborted_ = false;
    Position prefix_;
    uint64_t next_seq_ = 0;
    std::deque<Group> groups_;  // beyond the prefix, in dispatch order
    std::vector<WorkerState> workers_;
    struct Holder {
        size_t worker = 0;  // of the newest uncommitted group holding the key
        uint64_t seq = 0;   // that group
        size_t count = 0;   // uncommitted groups holding the key
        // The same for the groups holding it exclusively.
        size_t exclusive_worker = 0;
        uint64_t exclusive_seq = 0;
        size_t exclusive_count = 0;
    };
    // Whether `key` counts as shared here (never with unordered commits).
    bool held_shared(uint64_t key) const { return ordered_ && is_shared(key); }
    std::unordered_map<uint64_t, Holder> holders_;
    size_t barriers_in_flight_ = 0;
    size_t groups_in_flight_ = 0;
};

}  // namespace rep::sequencer
