#include "source/postgres/lsn.h"

#include "base/hex.h"

#include <fmt/format.h>

namespace rep::pg {
namespace {

std::optional<uint32_t> parse_hex32(std::string_view s) {
    if (s.empty() || s.size() > 8) {
        return std::nullopt;
    }
    uint32_t v = 0;
    for (char c : s) {
        int d = hex_digit(c);
        if (d < 0) {
            return std::nullopt;
        }
        v = (v << 4) | static_cast<uint32_t>(d);
    }
    return v;
}

}  // namespace

std::optional<Lsn> Lsn::parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    auto hi = parse_hex32(text.substr(0, slash));
    auto lo = parse_hex32(text.substr(slash + 1));
    if (!hi || !lo) {
        return std::nullopt;
    }
    return Lsn((static_cast<uint64_t>(*hi) << 32) | *lo);
}

std::string Lsn::str() const {
    return fmt::format("{:X}/{:X}", static_cast<uint32_t>(value_ >> 32),
                       static_cast<uint32_t>(value_));
}

}  // namespace rep::pg
