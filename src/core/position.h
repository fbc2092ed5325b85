#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rep {

// Orders the positions one source hands over: a later transaction always has a larger
// ordinal. What the number means belongs to the source that made it (a PostgreSQL LSN, an
// Oracle SCN, or, for MySQL, whose GTID sets have no order, a count of the transactions read
// in this process); only that source's PositionCodec turns it into text.
class Ordinal {
public:
    constexpr Ordinal() = default;
    constexpr explicit Ordinal(uint64_t value) : value_(value) {}

    constexpr uint64_t value() const { return value_; }
    constexpr bool is_zero() const { return value_ == 0; }

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
    friend constexpr auto operator<=>(Ordinal, Ordinal) = default;

private:
    uint64_t value_ = 0;
};

// The ordinals of the first and last source transaction of a run of consecutive ones.
struct OrdinalRange {
    Ordinal lo;
    Ordinal hi;
    friend bool operator==(const OrdinalRange&, const OrdinalRange&) = default;
};

// A source position, as a source hands it over with each transaction: the ordinal that
// orders it and the source's own spelling of it.
//
// At a commit or a keepalive, `text` is exactly what the staging memo stores to resume after
// this position (an LSN such as "16/B374D848", a GTID set). At a transaction's begin it names
// the transaction (a GTID), or is empty where the ordinal already does (an LSN).
struct Position {
    Ordinal ordinal;
    std::string text;
    friend bool operator==(const Position&, const Position&) = default;
};

// How one source reads, spells and names its positions. Each source folder implements one;
// no code outside a source folder interprets a position's text.
class PositionCodec {
public:
    virtual ~PositionCodec() = default;

    // What a position is called in messages: "LSN", "GTID set", "SCN".
    virtual std::string_view kind() const = 0;
    // The position a memo value names; nullopt if `text` is not one of this source's.
    virtual std::optional<Position> parse(std::string_view text) const = 0;
    // The position for logs and /_/diag: "LSN 16/B374D848", "GTID set 0-1-1042".
    virtual std::string describe(const Position& position) const = 0;
    // An ordinal alone (a received position, which has no text), for logs.
    virtual std::string describe_ordinal(Ordinal ordinal) const = 0;
    // A source transaction from its begin position, for error messages.
    virtual std::string describe_transaction(uint32_t xid, const Position& begin) const = 0;

    // Whether an ordinal names the same position in every run (an LSN, an SCN), so that a
    // checkpoint may be stored as ordinals alone. The parallel checkpoint records
    // (docs/staging.md §4.3) do that; sources without it apply on one connection.
    virtual bool stable_ordinals() const = 0;
    // REQUIRES: stable_ordinals(). The position that `ordinal` names.
    virtual Position at(Ordinal ordinal) const = 0;
};

}  // namespace rep
