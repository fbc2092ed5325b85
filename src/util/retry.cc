#include "util/retry.h"

#include <algorithm>
#include <random>

namespace rep::util {

Duration Backoff::next() {
    double d = static_cast<double>(policy_.initial_backoff.count());
    for (int i = 0; i < attempts_ && d < static_cast<double>(policy_.max_backoff.count()); ++i) {
        d *= static_cast<double>(std::max<int64_t>(policy_.multiplier, 1));
    }
    d = std::min(d, static_cast<double>(policy_.max_backoff.count()));
    ++attempts_;
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return Duration(static_cast<int64_t>(d * jitter(rng)));
}

}  // namespace rep::util
