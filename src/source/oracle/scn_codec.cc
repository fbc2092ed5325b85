#include "source/oracle/scn_codec.h"

#include "base/error.h"

#include <fmt/format.h>

#include <charconv>

namespace rep::oracle {

Position ScnCodec::commit(uint64_t commit_scn, uint64_t rank) {
    if (rank >= kTies) {
        throw fatal(
            fmt::format("more than {} transactions committed at SCN {}", kTies, commit_scn));
    }
    return Position{Ordinal(commit_scn * kTies + rank), std::to_string(commit_scn)};
}

Position ScnCodec::below(uint64_t scn) {
    return Position{Ordinal(scn == 0 ? 0 : scn * kTies - 1),
                    std::to_string(scn == 0 ? 0 : scn - 1)};
}

Position ScnCodec::begin(uint64_t commit_scn, uint64_t rank, const std::string& xid) {
    return Position{commit(commit_scn, rank).ordinal, xid};
}

std::optional<Position> ScnCodec::parse(std::string_view text) const {
    uint64_t scn = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), scn);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
        scn >= UINT64_MAX / kTies) {
        return std::nullopt;
    }
    return Position{Ordinal(scn * kTies + kTies - 1), std::string(text)};
}

std::string ScnCodec::describe(const Position& position) const {
    return "SCN " +
           (position.text.empty() ? std::to_string(scn_of(position.ordinal)) : position.text);
}

std::string ScnCodec::describe_ordinal(Ordinal ordinal) const {
    return fmt::format("SCN {}", scn_of(ordinal));
}

std::string ScnCodec::describe_transaction(uint32_t, const Position& begin) const {
    return fmt::format("transaction {} (commit SCN {})", begin.text, scn_of(begin.ordinal));
}

Position ScnCodec::at(Ordinal) const {
    throw fatal("Oracle SCN ordinals are not stable across runs");
}

}  // namespace rep::oracle
