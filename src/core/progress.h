#pragma once

#include "core/lsn.h"

#include <atomic>
#include <cstdint>

namespace rep {

// The position shared between the apply side and the source reader: everything at or before
// it is durably applied on the target (or needed no applying). The reader reports it to the
// source as the flush position, so it must only ever move forward, and only after a commit.
class Progress {
public:
    void advance(Lsn lsn) {
        uint64_t cur = confirmed_.load();
        while (lsn.value() > cur && !confirmed_.compare_exchange_weak(cur, lsn.value())) {
        }
    }
    Lsn get() const { return Lsn(confirmed_.load()); }

private:
    std::atomic<uint64_t> confirmed_{0};
};

}  // namespace rep
