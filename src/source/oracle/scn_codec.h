#pragma once

#include "core/position.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rep::oracle {

// What a position says is applied: every commit below `scn`, and at `scn` either all of them
// (`xids` empty) or the listed transactions (several may commit at one SCN on RAC).
struct AppliedPoint {
    uint64_t scn = 0;
    std::vector<std::string> xids;

    bool covers(uint64_t commit_scn, const std::string& xid) const;
};

// Oracle positions. The text is an AppliedPoint: "26690001" (all commits at or below that
// SCN) at a keepalive, "26690001:0F001F0040060000" (below it, and at it the listed XIDs,
// comma-separated) at a commit. It is what the plain memo row holds, so a restart skips
// exactly the transactions the target has (with the memo in the target, exactly once),
// beside the restart SCN and skip set `_oracle_checkpoint` gives. On RAC several transactions may
// commit at the same SCN on different threads, so the ordinal is the commit SCN times kTies plus
// the transaction's rank among the commits at that SCN in the mined order: it orders every commit
// within a run, and is not stable across runs (a restart may skip some of them), so records of
// parallel checkpoints are not used. A transaction's begin position names its XID.
class ScnCodec final : public PositionCodec {
public:
    static constexpr uint64_t kTies = 4096;

    // The position after the commit of the `rank`th transaction at `commit_scn` (rank from 0),
    // the applied transactions at that SCN being `xids` (this one last). Throws rep::Error
    // (fatal) when rank >= kTies.
    static Position commit(uint64_t commit_scn, uint64_t rank,
                           const std::vector<std::string>& xids);
    // A keepalive or frontier: nothing below `scn` is still to come.
    static Position below(uint64_t scn);
    // The begin position of transaction `xid` committing at commit_scn.
    static Position begin(uint64_t commit_scn, uint64_t rank, const std::string& xid);
    static uint64_t scn_of(Ordinal ordinal) { return ordinal.value() / kTies; }
    // What a position's text says is applied; nullopt if it is not one of ours.
    static std::optional<AppliedPoint> applied(std::string_view text);

    std::string_view kind() const override { return "SCN"; }
    // An AppliedPoint's text; the ordinal is the last transaction it names.
    std::optional<Position> parse(std::string_view text) const override;
    std::string describe(const Position& position) const override;
    std::string describe_ordinal(Ordinal ordinal) const override;
    std::string describe_transaction(uint32_t xid, const Position& begin) const override;
    bool stable_ordinals() const override { return false; }
    // Never called (no stable ordinals); throws rep::Error.
    Position at(Ordinal ordinal) const override;
};

}  // namespace rep::oracle
