#pragma once

#include "core/position.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>

namespace rep {

// The position shared between the apply side and the source reader: everything at or before
// it is durably applied on the target (or needed no applying). A source that reconnects within
// the process resumes after it, so it only ever moves forward, and only after a commit.
//
// Beside it, the *recorded* position: the furthest the checkpoint in the staging memo proves
// (what a restart would resume from). A source that acknowledges (PostgreSQL's slot) reports
// only what is both applied and recorded (confirmable()), so the slot never passes the
// checkpoint, and a slot found ahead of the checkpoint at start-up means a slot that was
// re-created or moved by hand: changes in between are gone. Thread-safe.
class Progress {
public:
    // The position a run starts from (a checkpoint, or a source's own start); it need not be
    // beyond the current one. Called before the pipeline runs.
    void start_at(Position position) {
        std::lock_guard lock(mu_);
        ordinal_.store(position.ordinal.value());
        recorded_.store(position.ordinal.value());
        position_ = std::move(position);
    }
    // The checkpoint now proves `ordinal` (it was committed with, or after, what it covers).
    void recorded(Ordinal ordinal) {
        uint64_t cur = recorded_.load();
        while (ordinal.value() > cur && !recorded_.compare_exchange_weak(cur, ordinal.value())) {
        }
    }
    Ordinal recorded() const { return Ordinal(recorded_.load()); }
    // What may be reported to the source as safe to forget: applied and recorded.
    Ordinal confirmable() const { return std::min(ordinal(), recorded()); }
    // Moves to `position` if it is beyond the current one.
    void advance(const Position& position) {
        std::lock_guard lock(mu_);
        if (position.ordinal.value() > ordinal_.load()) {
            position_ = position;
            ordinal_.store(position.ordinal.value());
        }
    }
    // The current ordinal, without locking (the PostgreSQL reader asks for every message).
    Ordinal ordinal() const { return Ordinal(ordinal_.load()); }
    Position get() const {
        std::lock_guard lock(mu_);
        return position_;
    }

private:
    std::atomic<uint64_t> ordinal_{0};
    std::atomic<uint64_t> recorded_{0};
    mutable std::mutex mu_;
    Position position_;
};

}  // namespace rep
