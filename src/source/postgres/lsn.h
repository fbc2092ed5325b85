#pragma once

#include "core/position.h"

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rep::pg {

// A PostgreSQL WAL position (log sequence number). Written as two hex halves "X/Y", the
// format PostgreSQL prints and the format MOLT Replicator stores in the staging memo table.
class Lsn {
public:
    constexpr Lsn() = default;
    constexpr explicit Lsn(uint64_t value) : value_(value) {}
    // The ordinal of a PostgreSQL position is its LSN (docs/architecture.md §1).
    constexpr explicit Lsn(Ordinal ordinal) : value_(ordinal.value()) {}

    // Parses "16/B374D848". Returns nullopt unless both halves are 1-8 hex digits.
    static std::optional<Lsn> parse(std::string_view text);

    constexpr uint64_t value() const { return value_; }
    constexpr bool is_zero() const { return value_ == 0; }
    std::string str() const;
    constexpr Ordinal ordinal() const { return Ordinal(value_); }
    // A position at this LSN, spelled as the memo stores it.
    Position position() const { return Position{ordinal(), str()}; }

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
    friend constexpr auto operator<=>(Lsn, Lsn) = default;

private:
    uint64_t value_ = 0;
};

}  // namespace rep::pg
