#pragma once

#include "core/position.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rep::mysql {

// MySQL and MariaDB positions. The text is the executed GTID position (a MySQL GTID set or a
// MariaDB GTID list, docs/staging.md §3.2), which is what the memo stores. GTID sets have no
// order, so the ordinal only counts the transactions read since the process started: it
// orders commits within the process and means nothing across runs (no stable ordinals, so
// mylogical applies on one connection). A transaction is named by its GTID.
class GtidCodec final : public PositionCodec {
public:
    std::string_view kind() const override { return "GTID set"; }
    // Accepts a MySQL GTID set or a MariaDB GTID list (empty: nothing executed); the ordinal
    // of a parsed position is 0.
    std::optional<Position> parse(std::string_view text) const override;
    std::string describe(const Position& position) const override;
    std::string describe_ordinal(Ordinal ordinal) const override;
    std::string describe_transaction(uint32_t xid, const Position& begin) const override;
    bool stable_ordinals() const override { return false; }
    // Never called (no stable ordinals); throws rep::Error.
    Position at(Ordinal ordinal) const override;
};

// How many transactions a GTID position holds (MysqlGtidSet / MariadbGtidList
// ::transactions), or nullopt if `text` is not one.
std::optional<uint64_t> gtid_transactions(std::string_view text);

}  // namespace rep::mysql
