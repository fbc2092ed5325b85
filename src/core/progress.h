#pragma once

#include "core/lsn.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

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
    // Advances and records the checkpoint text that goes with `lsn` (sources whose position
    // is not an LSN, such as a MySQL GTID set, count transactions in `lsn` instead).
    void advance(Lsn lsn, const std::string& checkpoint) {
        std::lock_guard lock(mu_);
        if (lsn.value() > confirmed_.load()) {
            checkpoint_ = checkpoint;
        }
        advance(lsn);
    }
    Lsn get() const { return Lsn(confirmed_.load()); }
    // The checkpoint text of the last advance that carried one (empty if none).
    std::string checkpoint() const {
        std::lock_guard lock(mu_);
        return checkpoint_;
    }

private:
    std::atomic<uint64_t> confirmed_{0};
    mutable std::mutex mu_;
    std::string checkpoint_;
};

}  // namespace rep
