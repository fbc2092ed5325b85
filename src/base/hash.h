#pragma once

#include <cstdint>

namespace rep {

// Folds `value` into `seed` (boost's hash_combine): for keys hashed from several column
// values, where the order of the values matters.
inline uint64_t hash_combine(uint64_t seed, uint64_t value) {
    return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

}  // namespace rep
