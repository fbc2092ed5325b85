#pragma once

#include "core/position.h"

namespace rep::pg {

// PostgreSQL positions: the ordinal is the LSN itself, and the text is the LSN as PostgreSQL
// prints it ("16/B374D848"), which is what the memo stores (docs/staging.md §3.1). A
// transaction is named by its xid and the LSN of its commit record.
class LsnCodec final : public PositionCodec {
public:
    std::string_view kind() const override { return "LSN"; }
    std::optional<Position> parse(std::string_view text) const override;
    std::string describe(const Position& position) const override;
    std::string describe_ordinal(Ordinal ordinal) const override;
    std::string describe_transaction(uint32_t xid, const Position& begin) const override;
    bool stable_ordinals() const override { return true; }
    Position at(Ordinal ordinal) const override;
};

}  // namespace rep::pg
