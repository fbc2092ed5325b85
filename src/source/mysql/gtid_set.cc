#include "source/mysql/gtid_set.h"

#include "base/hex.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace rep::mysql {
namespace {

// MySQL's largest transaction number is INT64_MAX - 1, so the exclusive end of an interval
// still fits the int64 of the binary encoding.
constexpr uint64_t kMaxGno = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - 1;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// A decimal number made of digits only (no sign, no spaces); nullopt on junk or overflow.
template <typename T>
std::optional<T> parse_number(std::string_view s) {
    if (s.empty() ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    T v{};
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

std::optional<uint64_t> parse_gno(std::string_view s) {
    auto v = parse_number<uint64_t>(trim(s));
    if (!v || *v == 0 || *v > kMaxGno) {
        return std::nullopt;
    }
    return v;
}

void put_le64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

// Inserts [first, last] into a sorted, disjoint, non-adjacent interval list, merging.
void insert_interval(std::vector<MysqlGtidSet::Interval>& v, MysqlGtidSet::Interval iv) {
    // First interval that ends at or after iv.first - 1 (i.e. touches or follows iv).
    auto it = std::lower_bound(v.begin(), v.end(), iv.first,
                               [](const auto& e, uint64_t first) { return e.last + 1 < first; });
    auto end = it;
    while (end != v.end() && end->first <= iv.last + 1) {
        iv.first = std::min(iv.first, end->first);
        iv.last = std::max(iv.last, end->last);
        ++end;
    }
    it = v.erase(it, end);
    v.insert(it, iv);
}

}  // namespace

std::optional<MysqlGtidSet::Uuid> MysqlGtidSet::parse_uuid(std::string_view text) {
    // 8-4-4-4-12 hex digits; MySQL also accepts the 32 digits without dashes.
    Uuid u{};
    size_t digits = 0;
    bool dashed = text.size() == 36;
    if (!dashed && text.size() != 32) {
        return std::nullopt;
    }
    for (size_t i = 0; i < text.size(); ++i) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (text[i] != '-') {
                return std::nullopt;
            }
            continue;
        }
        int h = hex_digit(text[i]);
        if (h < 0) {
            return std::nullopt;
        }
        u[digits / 2] = static_cast<uint8_t>(u[digits / 2] | (digits % 2 == 0 ? h << 4 : h));
        ++digits;
    }
    return u;
}

std::string MysqlGtidSet::uuid_str(const Uuid& uuid) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (size_t i = 0; i < uuid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            s.push_back('-');
        }
        s.push_back(kHex[uuid[i] >> 4]);
        s.push_back(kHex[uuid[i] & 0xf]);
    }
    return s;
}

std::optional<MysqlGtidSet> MysqlGtidSet::parse(std::string_view text) {
    MysqlGtidSet set;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        std::string_view spec =
            trim(text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos));
        pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        // MySQL tolerates empty specifications ("a,,b", leading or trailing commas).
        if (spec.empty()) {
            continue;
        }
        size_t colon = spec.find(':');
        auto uuid = parse_uuid(trim(spec.substr(0, colon)));
        if (!uuid) {
            return std::nullopt;
        }
        // "uuid" alone is legal in MySQL and names no transactions.
        while (colon != std::string_view::npos) {
            size_t next = spec.find(':', colon + 1);
            std::string_view iv = spec.substr(
                colon + 1, next == std::string_view::npos ? spec.npos : next - colon - 1);
            colon = next;
            size_t dash = iv.find('-');
            auto first = parse_gno(iv.substr(0, dash));
            auto last = dash == std::string_view::npos ? first : parse_gno(iv.substr(dash + 1));
            if (!first || !last || *last < *first) {
                return std::nullopt;
            }
            insert_interval(set.sets_[*uuid], Interval{*first, *last});
        }
    }
    return set;
}

void MysqlGtidSet::add(const Uuid& uuid, uint64_t gno) {
    insert_interval(sets_[uuid], Interval{gno, gno});
}

void MysqlGtidSet::add(const MysqlGtidSet& other) {
    for (const auto& [uuid, ivs] : other.sets_) {
        auto& mine = sets_[uuid];
        for (const auto& iv : ivs) {
            insert_interval(mine, iv);
        }
    }
}

bool MysqlGtidSet::contains(const Uuid& uuid, uint64_t gno) const {
    auto found = sets_.find(uuid);
    if (found == sets_.end()) {
        return false;
    }
    const auto& v = found->second;
    auto it = std::lower_bound(v.begin(), v.end(), gno,
                               [](const Interval& e, uint64_t g) { return e.last < g; });
    return it != v.end() && it->first <= gno;
}

bool MysqlGtidSet::contains(const MysqlGtidSet& other) const {
    for (const auto& [uuid, ivs] : other.sets_) {
        if (ivs.empty()) {
            continue;
        }
        auto found = sets_.find(uuid);
        if (found == sets_.end()) {
            return false;
        }
        const auto& mine = found->second;
        for (const auto& iv : ivs) {
            // Our intervals are maximal, so a contained interval lies within a single one.
            auto it = std::lower_bound(mine.begin(), mine.end(), iv.first,
                                       [](const Interval& e, uint64_t g) { return e.last < g; });
            if (it == mine.end() || it->first > iv.first || it->last < iv.last) {
                return false;
            }
        }
    }
    return true;
}

uint64_t MysqlGtidSet::transactions() const {
    uint64_t n = 0;
    for (const auto& [uuid, intervals] : sets_) {
        for (const Interval& i : intervals) {
            n += i.last - i.first + 1;
        }
    }
    return n;
}

std::string MysqlGtidSet::str() const {
    // std::array compares bytewise, and the bytes are in text order, so map order is the
    // sorted order of the lower-case text.
    std::string out;
    for (const auto& [uuid, ivs] : sets_) {
        if (ivs.empty()) {
            continue;
        }
        if (!out.empty()) {
            out.push_back(',');
        }
        out += uuid_str(uuid);
        for (const auto& iv : ivs) {
            if (iv.first == iv.last) {
                out += fmt::format(":{}", iv.first);
            } else {
                out += fmt::format(":{}-{}", iv.first, iv.last);
            }
        }
    }
    return out;
}

std::string MysqlGtidSet::encode() const {
    std::string out;
    uint64_t n_sids = 0;
    for (const auto& [uuid, ivs] : sets_) {
        n_sids += ivs.empty() ? 0 : 1;
    }
    put_le64(out, n_sids);
    for (const auto& [uuid, ivs] : sets_) {
        if (ivs.empty()) {
            continue;
        }
        out.append(reinterpret_cast<const char*>(uuid.data()), uuid.size());
        put_le64(out, ivs.size());
        for (const auto& iv : ivs) {
            put_le64(out, iv.first);
            put_le64(out, iv.last + 1);
        }
    }
    return out;
}

std::optional<MysqlGtidSet> MysqlGtidSet::decode(std::string_view bytes) {
    size_t pos = 0;
    auto u64 = [&](uint64_t& v) {
        if (bytes.size() - pos < 8) {
            return false;
        }
        v = 0;
        for (size_t i = 0; i < 8; ++i) {
            v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[pos + i])) << (8 * i);
        }
        pos += 8;
        return true;
    };
    MysqlGtidSet set;
    uint64_t n_sids = 0;
    if (!u64(n_sids)) {
        return std::nullopt;
    }
    // Each SID needs at least 24 bytes; checking up front bounds the loop on garbage counts.
    if (n_sids > (bytes.size() - pos) / 24) {
        return std::nullopt;
    }
    for (uint64_t s = 0; s < n_sids; ++s) {
        if (bytes.size() - pos < 16) {
            return std::nullopt;
        }
        Uuid uuid{};
        std::copy_n(bytes.data() + pos, 16, reinterpret_cast<char*>(uuid.data()));
        pos += 16;
        uint64_t n_intervals = 0;
        if (!u64(n_intervals) || n_intervals > (bytes.size() - pos) / 16) {
            return std::nullopt;
        }
        for (uint64_t i = 0; i < n_intervals; ++i) {
            uint64_t start = 0;
            uint64_t end = 0;
            if (!u64(start) || !u64(end)) {
                return std::nullopt;
            }
            if (start == 0 || end <= start || end - 1 > kMaxGno) {
                return std::nullopt;
            }
            insert_interval(set.sets_[uuid], Interval{start, end - 1});
        }
    }
    if (pos != bytes.size()) {
        return std::nullopt;
    }
    return set;
}

std::optional<MariadbGtidList> MariadbGtidList::parse(std::string_view text) {
    MariadbGtidList list;
    if (trim(text).empty()) {
        return list;
    }
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        std::string_view item =
            trim(text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos));
        pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        size_t d1 = item.find('-');
        size_t d2 = d1 == std::string_view::npos ? d1 : item.find('-', d1 + 1);
        if (d2 == std::string_view::npos) {
            return std::nullopt;
        }
        auto domain = parse_number<uint32_t>(item.substr(0, d1));
        auto server = parse_number<uint32_t>(item.substr(d1 + 1, d2 - d1 - 1));
        auto seq = parse_number<uint64_t>(item.substr(d2 + 1));
        if (!domain || !server || !seq) {
            return std::nullopt;
        }
        // MariaDB refuses a position with two entries for one domain; so do we.
        if (!list.domains_.emplace(*domain, Gtid{*domain, *server, *seq}).second) {
            return std::nullopt;
        }
    }
    return list;
}

void MariadbGtidList::add(const Gtid& g) {
    domains_[g.domain] = g;
}

bool MariadbGtidList::contains(const Gtid& g) const {
    auto it = domains_.find(g.domain);
    return it != domains_.end() && g.seq <= it->second.seq;
}

uint64_t MariadbGtidList::transactions() const {
    uint64_t n = 0;
    for (const auto& [domain, g] : domains_) {
        n += g.seq;
    }
    return n;
}

std::string MariadbGtidList::str() const {
    std::string out;
    for (const auto& [domain, g] : domains_) {
        if (!out.empty()) {
            out.push_back(',');
        }
        out += fmt::format("{}-{}-{}", g.domain, g.server, g.seq);
    }
    return out;
}

bool looks_like_mariadb_gtid(std::string_view text) {
    return text.find(':') == std::string_view::npos;
}

}  // namespace rep::mysql
