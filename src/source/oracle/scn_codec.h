#pragma once

#include "core/position.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rep::oracle {

// Oracle positions. The text at a commit is the transaction's commit SCN in decimal (what
// the plain memo row shows; the restart itself is decided by `_oracle_checkpoint`, which
// names transactions, not one position). On RAC several transactions may commit at the same
// SCN on different threads, so the ordinal is the commit SCN times kTies plus the
// transaction's rank among the commits at that SCN in the mined order: it orders every
// commit within a run, and is not stable across runs (a restart may skip some of them), so
// records of parallel checkpoints are not used. A transaction's begin position names its XID.
class ScnCodec final : public PositionCodec {
public:
    static constexpr uint64_t kTies = 4096;

    // The position after the commit of the `rank`th transaction at `commit_scn` (rank from 0).
    // Throws rep::Error (fatal) when rank >= kTies.
    static Position commit(uint64_t commit_scn, uint64_t rank);
    // A keepalive or frontier: nothing below `scn` is still to come.
    static Position below(uint64_t scn);
    // The begin position of transaction `xid` committing at commit_scn.
    static Position begin(uint64_t commit_scn, uint64_t rank, const std::string& xid);
    static uint64_t scn_of(Ordinal ordinal) { return ordinal.value() / kTies; }

    std::string_view kind() const override { return "SCN"; }
    // A decimal SCN.
    std::optional<Position> parse(std::string_view text) const override;
    std::string describe(const Position& position) const override;
    std::string describe_ordinal(Ordinal ordinal) const override;
    std::string describe_transaction(uint32_t xid, const Position& begin) const override;
    bool stable_ordinals() const override { return false; }
    // Never called (no stable ordinals); throws rep::Error.
    Position at(Ordinal ordinal) const override;
};

}  // namespace rep::oracle
