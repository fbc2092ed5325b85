#include "source/oracle/scn_codec.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace rep::oracle {

bool AppliedPoint::covers(uint64_t commit_scn, const std::string& xid) const {
    if (commit_scn != scn) {
        return commit_scn < scn;
    }
    return xids.empty() || std::find(xids.begin(), xids.end(), xid) != xids.end();
}

Position ScnCodec::commit(uint64_t commit_scn, uint64_t rank,
                          const std::vector<std::string>& xids) {
    if (rank >= kTies) {
        throw fatal(
            fmt::format("more than {} transactions committed at SCN {}", kTies, commit_scn));
    }
    std::string text = std::to_string(commit_scn);
    for (size_t i = 0; i < xids.size(); ++i) {
        text += (i == 0 ? ":" : ",") + xids[i];
    }
    return Position{Ordinal(commit_scn * kTies + rank), text};
}

Position ScnCodec::below(uint64_t scn) {
    return Position{Ordinal(scn == 0 ? 0 : scn * kTies - 1),
                    std::to_string(scn == 0 ? 0 : scn - 1)};
}

Position ScnCodec::begin(uint64_t commit_scn, uint64_t rank, const std::string& xid) {
    return Position{commit(commit_scn, rank, {}).ordinal, xid};
}

std::optional<AppliedPoint> ScnCodec::applied(std::string_view text) {
    AppliedPoint out;
    std::string_view digits = text.substr(0, text.find(':'));
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.scn);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
        out.scn >= UINT64_MAX / kTies) {
        return std::nullopt;
    }
    if (digits.size() == text.size()) {
        return out;
    }
    std::string_view list = text.substr(digits.size() + 1);
    for (;;) {
        std::string_view xid = list.substr(0, list.find(','));
        if (xid.empty() || xid.find_first_not_of("0123456789ABCDEFabcdef") != std::string::npos) {
            return std::nullopt;
        }
        out.xids.emplace_back(xid);
        if (xid.size() == list.size()) {
            break;
        }
        list.remove_prefix(xid.size() + 1);
    }
    if (out.xids.size() > kTies) {
        return std::nullopt;
    }
    return out;
}

std::optional<Position> ScnCodec::parse(std::string_view text) const {
    std::optional<AppliedPoint> point = applied(text);
    if (!point) {
        return std::nullopt;
    }
    uint64_t rank = point->xids.empty() ? kTies - 1 : point->xids.size() - 1;
    return Position{Ordinal(point->scn * kTies + rank), std::string(text)};
}

std::string ScnCodec::describe(const Position& position) const {
    std::optional<AppliedPoint> point = applied(position.text);
    if (!point) {
        return fmt::format("SCN {}", scn_of(position.ordinal));
    }
    if (point->xids.empty()) {
        return fmt::format("SCN {}", point->scn);
    }
    return fmt::format("SCN {} (transaction {})", point->scn, point->xids.back());
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
