#include "source/mysql/charsets.h"

#include "base/error.h"
#include "base/utf8.h"
#include "source/mysql/binlog_event.h"

#include <fmt/format.h>

namespace rep::mysql {
namespace {

constexpr size_t kNpos = std::string::npos;

// MySQL's latin1 is cp1252 with the five undefined positions mapped to the C1 controls.
constexpr std::array<uint16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

bool is_surrogate(uint32_t u) {
    return u >= 0xD800 && u <= 0xDFFF;
}

std::string not_text(const std::string& charset, std::string_view why) {
    return fmt::format(
        "is not valid {} text: {}. Correct the value on the source, or convert the column to "
        "utf8mb4 there (ALTER TABLE ... MODIFY the column ... CHARACTER SET utf8mb4)",
        charset, why);
}

// UTF-16 or UCS-2 (`pairs` false: no surrogates at all), `big` endian; UTF-32 big-endian.
void utf16_to_utf8(const std::string& charset, const uint8_t* p, size_t n, bool big, bool pairs,
                   std::string& out) {
    if (n % 2 != 0) {
        throw fatal(not_text(charset, fmt::format("{} bytes is not a whole number of 2-byte "
                                                  "code units",
                                                  n)));
    }
    auto unit = [&](size_t i) -> uint32_t {
        return big ? (p[i] << 8 | p[i + 1]) : (p[i + 1] << 8 | p[i]);
    };
    for (size_t i = 0; i < n; i += 2) {
        uint32_t u = unit(i);
        if (!is_surrogate(u)) {
            append_utf8(out, u);
            continue;
        }
        uint32_t low = pairs && u < 0xDC00 && i + 3 < n ? unit(i + 2) : 0;
        if (low < 0xDC00 || low > 0xDFFF) {
            throw fatal(
                not_text(charset, fmt::format("a lone surrogate 0x{:04x} at byte {}", u, i)));
        }
        append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
    }
}

void utf32_to_utf8(const uint8_t* p, size_t n, std::string& out) {
    if (n % 4 != 0) {
        throw fatal(not_text("utf32", fmt::format("{} bytes is not a whole number of 4-byte "
                                                  "characters",
                                                  n)));
    }
    for (size_t i = 0; i < n; i += 4) {
        uint32_t cp = static_cast<uint32_t>(p[i]) << 24 | p[i + 1] << 16 | p[i + 2] << 8 | p[i + 3];
        if (cp > 0x10FFFF || is_surrogate(cp)) {
            throw fatal(
                not_text("utf32", fmt::format("0x{:x} at byte {} is not a character", cp, i)));
        }
        append_utf8(out, cp);
    }
}

uint32_t multi_key(const uint8_t* p, size_t len) {
    uint32_t key = static_cast<uint32_t>(len) << 24;
    for (size_t i = 0; i < len; ++i) {
        key |= static_cast<uint32_t>(p[i]) << (8 * (len - 1 - i));
    }
    return key;
}

}  // namespace

void CharTable::add(std::string_view bytes, std::optional<std::string> utf8) {
    if (bytes.empty() || bytes.size() > 3) {
        return;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    if (bytes.size() == 1) {
        first_[p[0]] = utf8 ? First::kChar : First::kUnmapped;
        single_[p[0]] = utf8.value_or("");
        ++singles_;
        return;
    }
    if (first_[p[0]] == First::kChar || first_[p[0]] == First::kUnmapped) {
        return;  // a character followed by others, not one of its own
    }
    first_[p[0]] = First::kLead;
    multi_[multi_key(p, bytes.size())] = std::move(utf8);
}

size_t CharTable::to_utf8(const uint8_t* p, size_t n, std::string& out) const {
    size_t i = 0;
    while (i < n) {
        switch (first_[p[i]]) {
            case First::kChar:
                out += single_[p[i]];
                ++i;
                continue;
            case First::kLead: {
                bool found = false;
                for (size_t len = 2; len <= 3 && i + len <= n && !found; ++len) {
                    auto it = multi_.find(multi_key(p + i, len));
                    if (it != multi_.end()) {
                        if (!it->second) {
                            return i;
                        }
                        out += *it->second;
                        i += len;
                        found = true;
                    }
                }
                if (!found) {
                    return i;
                }
                continue;
            }
            case First::kNone:
            case First::kUnmapped:
                return i;
        }
    }
    return kNpos;
}

Charsets::Charsets() {
    // Ids every MySQL and MariaDB server gives these collations.
    add_collation(63, "binary", "binary", 1);
    for (uint32_t id : {5, 8, 15, 31, 47, 48, 49, 94}) {
        add_collation(id, "", "latin1", 1);
    }
    for (uint32_t id : {33, 83, 192, 223}) {
        add_collation(id, "", "utf8mb3", 3);
    }
    for (uint32_t id : {45, 46, 224, 255}) {
        add_collation(id, "", "utf8mb4", 4);
    }
}

void Charsets::add_collation(uint32_t id, const std::string& name, const std::string& charset,
                             int maxlen) {
    Collation c;
    c.charset = charset;
    c.maxlen = maxlen;
    if (charset == "utf8" || charset == "utf8mb3" || charset == "utf8mb4") {
        c.kind = Kind::kUtf8;
    } else if (charset == "binary") {
        c.kind = Kind::kBinary;
    } else if (charset == "latin1") {
        c.kind = Kind::kLatin1;
    } else if (charset == "ucs2") {
        c.kind = Kind::kUcs2;
    } else if (charset == "utf16") {
        c.kind = Kind::kUtf16;
    } else if (charset == "utf16le") {
        c.kind = Kind::kUtf16le;
    } else if (charset == "utf32") {
        c.kind = Kind::kUtf32;
    } else if (maxlen <= 3) {
        c.kind = Kind::kTable;
    } else {
        c.kind = Kind::kAsciiOnly;  // gb18030: 4-byte sequences, too many to load
    }
    Collation& slot = collations_[id];
    slot = std::move(c);
    if (id < by_small_id_.size()) {
        by_small_id_[id] = &slot;
    }
    if (!name.empty()) {
        ids_[name] = id;
    }
}

std::optional<uint32_t> Charsets::id_of(const std::string& collation_name) const {
    auto it = ids_.find(collation_name);
    if (it == ids_.end()) {
        return std::nullopt;
    }
    return it->second;
}

const Charsets::Collation* Charsets::find(uint32_t id) const {
    if (id < by_small_id_.size()) {
        return by_small_id_[id];
    }
    auto it = collations_.find(id);
    return it == collations_.end() ? nullptr : &it->second;
}

std::string Charsets::charset_of(uint32_t collation) const {
    const Collation* c = find(collation);
    return c == nullptr ? std::string() : c->charset;
}

void Charsets::prepare(const TableMap& map) {
    for (const auto& col : map.columns) {
        if (col.collation == 0) {
            continue;
        }
        const Collation* c = find(col.collation);
        if (c == nullptr) {
            throw fatal(fmt::format(
                "table {}.{} column {}: collation id {} is not one the source server lists in "
                "information_schema, so its character set is unknown",
                map.database, map.table, col.name.empty() ? "(unnamed)" : col.name, col.collation));
        }
        if (c->kind == Kind::kTable && !tables_.contains(c->charset) && loader_) {
            try {
                tables_.emplace(c->charset, loader_(c->charset, c->maxlen));
            } catch (const Error& e) {
                throw Error(e.kind(),
                            fmt::format("loading the characters of {} from the source (for table "
                                        "{}.{} column {}): {}",
                                        c->charset, map.database, map.table, col.name, e.what()));
            }
        }
    }
}

void Charsets::to_utf8(uint32_t collation, const uint8_t* p, size_t n, std::string& out) const {
    const Collation* c = collation == 0 ? nullptr : find(collation);
    if (collation != 0 && c == nullptr) {
        throw fatal(fmt::format("collation id {} is not one the source server lists", collation));
    }
    Kind kind = c == nullptr ? Kind::kUtf8 : c->kind;
    switch (kind) {
        case Kind::kUtf8:
        case Kind::kBinary:
            out.append(reinterpret_cast<const char*>(p), n);
            return;
        case Kind::kLatin1:
            out.reserve(out.size() + n + n / 4);
            for (size_t i = 0; i < n; ++i) {
                uint8_t b = p[i];
                append_utf8(out, b >= 0x80 && b <= 0x9F ? kCp1252High[b - 0x80] : b);
            }
            return;
        case Kind::kUcs2:
            return utf16_to_utf8(c->charset, p, n, true, false, out);
        case Kind::kUtf16:
            return utf16_to_utf8(c->charset, p, n, true, true, out);
        case Kind::kUtf16le:
            return utf16_to_utf8(c->charset, p, n, false, true, out);
        case Kind::kUtf32:
            return utf32_to_utf8(p, n, out);
        case Kind::kAsciiOnly:
            for (size_t i = 0; i < n; ++i) {
                if (p[i] >= 0x80) {
                    throw fatal(not_text(
                        c->charset,
                        fmt::format("byte {} (0x{:02x}) starts a character this replicator "
                                    "does not convert from {} (only ASCII text is)",
                                    i, p[i], c->charset)));
                }
            }
            out.append(reinterpret_cast<const char*>(p), n);
            return;
        case Kind::kTable: {
            auto it = tables_.find(c->charset);
            if (it == tables_.end()) {
                throw fatal(fmt::format("the characters of {} were not loaded from the source",
                                        c->charset));
            }
            size_t at = it->second.to_utf8(p, n, out);
            if (at != kNpos) {
                throw fatal(
                    not_text(c->charset,
                             fmt::format("byte {} (0x{:02x}) does not start a character the source "
                                         "server converts to Unicode",
                                         at, p[at])));
            }
            return;
        }
    }
}

}  // namespace rep::mysql
