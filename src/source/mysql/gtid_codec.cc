#include "source/mysql/gtid_codec.h"

#include "base/error.h"
#include "source/mysql/gtid_set.h"

#include <fmt/format.h>

namespace rep::mysql {

std::optional<Position> GtidCodec::parse(std::string_view text) const {
    bool valid = looks_like_mariadb_gtid(text) ? MariadbGtidList::parse(text).has_value()
                                               : MysqlGtidSet::parse(text).has_value();
    if (!valid) {
        return std::nullopt;
    }
    return Position{Ordinal(), std::string(text)};
}

std::string GtidCodec::describe(const Position& position) const {
    return "GTID set " + (position.text.empty() ? std::string("(none)") : position.text);
}

std::string GtidCodec::describe_ordinal(Ordinal ordinal) const {
    return fmt::format("source transaction #{} of this run", ordinal.value());
}

std::string GtidCodec::describe_transaction(uint32_t, const Position& begin) const {
    return begin.text.empty() ? describe_ordinal(begin.ordinal)
                              : "source transaction " + begin.text;
}

Position GtidCodec::at(Ordinal ordinal) const {
    throw fatal(fmt::format("internal error: a MySQL position cannot be rebuilt from ordinal {}",
                            ordinal.value()));
}

std::optional<uint64_t> gtid_transactions(std::string_view text) {
    if (looks_like_mariadb_gtid(text)) {
        auto list = MariadbGtidList::parse(text);
        return list ? std::optional<uint64_t>(list->transactions()) : std::nullopt;
    }
    auto set = MysqlGtidSet::parse(text);
    return set ? std::optional<uint64_t>(set->transactions()) : std::nullopt;
}

}  // namespace rep::mysql
