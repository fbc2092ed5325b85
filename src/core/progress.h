#pragma once

#include "core/position.h"

#include <atomic>
#include <cstdint>
#include <mutex>

namespace rep {

// The position shared between the apply side and the source reader: everything at or before
// it is durably applied on the target (or needed no applying). A source that acknowledges
// (PostgreSQL's slot) reports it as its flush position, and a source that reconnects within
// the process resumes after it, so it only ever moves forward, and only after a commit.
// Thread-safe.
class Progress {
public:
    // The position a run starts from (a checkpoint, or a source's own start); it need not be
    // beyond the current one. Called before the pipeline runs.
    void start_at(Position position) {
        std::lock_guard lock(mu_);
        ordinal_.store(position.ordinal.value());
        position_ = std::move(position);
    }
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
    mutable std::mutex mu_;
    Position position_;
};

}  // namespace rep
