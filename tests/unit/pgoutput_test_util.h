#pragma once

// Helpers shared by the pgoutput decoder tests (captured streams and hand-built messages).

#include "source/postgres/pgoutput_decoder.h"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

namespace rep::pg::test_util {

// One letter per message, as in the protocol: B C R I U D T S E c A (O Y M for InfoMsg).
inline char kind_of(const Message& m) {
    return std::visit(
        [](const auto& v) -> char {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, BeginMsg>) {
                return 'B';
            } else if constexpr (std::is_same_v<T, CommitMsg>) {
                return 'C';
            } else if constexpr (std::is_same_v<T, RelationMsg>) {
                return 'R';
            } else if constexpr (std::is_same_v<T, ChangeMsg>) {
                return v.op;
            } else if constexpr (std::is_same_v<T, TruncateMsg>) {
                return 'T';
            } else if constexpr (std::is_same_v<T, StreamStartMsg>) {
                return 'S';
            } else if constexpr (std::is_same_v<T, StreamStopMsg>) {
                return 'E';
            } else if constexpr (std::is_same_v<T, StreamCommitMsg>) {
                return 'c';
            } else if constexpr (std::is_same_v<T, StreamAbortMsg>) {
                return 'A';
            } else {
                return v.type;
            }
        },
        m);
}

// "1|apple|NULL|<unchanged>": a tuple in one comparable string.
inline std::string show(const std::vector<Datum>& tuple) {
    std::string out;
    for (size_t i = 0; i < tuple.size(); ++i) {
        if (i > 0) {
            out += '|';
        }
        const Datum& d = tuple[i];
        out += d.is_null() ? "NULL" : d.absent() ? "<unchanged>" : d.text;
    }
    return out;
}

inline std::vector<Message> decode_all(PgOutputDecoder& decoder,
                                       const std::vector<std::string>& payloads) {
    std::vector<Message> out;
    for (const auto& p : payloads) {
        out.push_back(decoder.decode(p));
    }
    return out;
}

template <typename T>
std::vector<T> all_of_type(const std::vector<Message>& messages) {
    std::vector<T> out;
    for (const auto& m : messages) {
        if (const auto* v = std::get_if<T>(&m)) {
            out.push_back(*v);
        }
    }
    return out;
}

inline std::vector<std::string> column_names(const Relation& rel) {
    std::vector<std::string> out;
    for (const auto& c : rel.columns) {
        out.push_back(c.name);
    }
    return out;
}

inline std::vector<bool> key_flags(const Relation& rel) {
    std::vector<bool> out;
    for (const auto& c : rel.columns) {
        out.push_back(c.is_key);
    }
    return out;
}

constexpr uint32_t kInt4Oid = 23;
constexpr uint32_t kTextOid = 25;
// 2020-01-01 and 2100-01-01 in microseconds since the Unix epoch.
constexpr int64_t kYear2020Us = 1577836800LL * 1000000;
constexpr int64_t kYear2100Us = 4102444800LL * 1000000;

}  // namespace rep::pg::test_util
