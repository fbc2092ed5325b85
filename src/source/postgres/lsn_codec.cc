#include "source/postgres/lsn_codec.h"

#include "source/postgres/lsn.h"

#include <fmt/format.h>

namespace rep::pg {

std::optional<Position> LsnCodec::parse(std::string_view text) const {
    auto lsn = Lsn::parse(text);
    if (!lsn) {
        return std::nullopt;
    }
    return lsn->position();
}

std::string LsnCodec::describe(const Position& position) const {
    return describe_ordinal(position.ordinal);
}

std::string LsnCodec::describe_ordinal(Ordinal ordinal) const {
    return "LSN " + Lsn(ordinal).str();
}

std::string LsnCodec::describe_transaction(uint32_t xid, const Position& begin) const {
    return fmt::format("source transaction {}, commit at LSN {}", xid, Lsn(begin.ordinal).str());
}

Position LsnCodec::at(Ordinal ordinal) const {
    return Lsn(ordinal).position();
}

}  // namespace rep::pg
