#pragma once

#include "base/duration.h"

#include <cstdint>

namespace rep::util {

// --maxRetries / --retryInitialBackoff / --retryMaxBackoff / --retryMultiplier.
struct RetryPolicy {
    int max_retries = 10;
    Duration initial_backoff = std::chrono::milliseconds(25);
    Duration max_backoff = std::chrono::seconds(2);
    int64_t multiplier = 2;
};

// Exponential backoff with full jitter in [delay/2, delay]. Not thread-safe.
class Backoff {
public:
    explicit Backoff(RetryPolicy policy) : policy_(policy) {}
    // Delay before the next attempt; counts the attempt.
    Duration next();
    // True once max_retries consecutive attempts have failed.
    bool exhausted() const { return attempts_ >= policy_.max_retries; }
    int attempts() const { return attempts_; }
    void reset() { attempts_ = 0; }

private:
    RetryPolicy policy_;
    int attempts_ = 0;
};

}  // namespace rep::util
