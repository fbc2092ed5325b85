#include "source/mysql/row_values.h"

#include "base/error.h"
#include "source/mysql/charsets.h"
#include "source/mysql/column_traits.h"
#include "source/mysql/mysql_json.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace rep::mysql {
namespace {

[[noreturn]] void column_fail(const TableMap& map, size_t column, std::string_view what) {
    const TableColumn& c = map.columns[column];
    std::string col = c.name.empty() ? fmt::format("#{}", column + 1) : c.name;
    throw fatal(fmt::format("table {}.{} column {}: {}", map.database, map.table, col, what));
}

uint64_t read_le(const uint8_t* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
        v |= static_cast<uint64_t>(p[i]) << (8 * i);
    }
    return v;
}

uint64_t read_be(const uint8_t* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

int64_t sign_extend(uint64_t v, size_t bytes) {
    if (bytes >= 8) {
        return static_cast<int64_t>(v);
    }
    uint64_t sign = uint64_t{1} << (bytes * 8 - 1);
    return static_cast<int64_t>((v ^ sign) - sign);
}

constexpr std::array<int, 10> kDig2Bytes = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

size_t decimal_size(uint16_t meta) {
    int precision = meta >> 8;
    int scale = meta & 0xff;
    int intg = precision - scale;
    int bytes = (intg / 9) * 4 + kDig2Bytes[intg % 9] + (scale / 9) * 4 + kDig2Bytes[scale % 9];
    return static_cast<size_t>(bytes);
}

size_t frac_bytes(uint16_t fsp) {
    return (fsp + 1) / 2;
}

// Length of the length prefix of a CHAR value: 2 bytes when the maximum byte length exceeds 255.
size_t string_prefix(const TableColumn& c) {
    return c.meta > 255 ? 2 : 1;
}

size_t enum_size(const TableColumn& c) {
    if (c.meta != 0) {
        return c.meta;
    }
    return c.enum_values.size() > 255 ? 2 : 1;
}

size_t set_size(const TableColumn& c) {
    if (c.meta != 0) {
        return c.meta;
    }
    size_t n = (c.set_values.size() + 7) / 8;
    return n == 0 ? 1 : n;
}

std::string hex_bytea(const uint8_t* p, size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\\x";
    out.reserve(2 + 2 * n);
    for (size_t i = 0; i < n; ++i) {
        out.push_back(kHex[p[i] >> 4]);
        out.push_back(kHex[p[i] & 0xF]);
    }
    return out;
}

const Charsets& builtin_charsets() {
    static const Charsets builtin;
    return builtin;
}

// Text in the column's character set, as UTF-8 (or bytea hex for the binary collation).
std::string render_chars(const TableMap& map, size_t column, const ValueOptions& options,
                         const uint8_t* p, size_t n) {
    const TableColumn& c = map.columns[column];
    if (c.collation == kBinaryCollation) {
        return hex_bytea(p, n);
    }
    std::string out;
    try {
        (options.charsets != nullptr ? *options.charsets : builtin_charsets())
            .to_utf8(c.collation, p, n, out);
    } catch (const Error& e) {
        column_fail(map, column, e.what());
    }
    return out;
}

// An ENUM or SET label: in the column's character set when the TABLE_MAP gave it, already
// UTF-8 when information_schema did (--fetchMetadata).
std::string render_label(const TableMap& map, size_t column, const ValueOptions& options,
                         const std::string& label) {
    const TableColumn& c = map.columns[column];
    if (c.labels_utf8 || c.collation == kBinaryCollation) {
        return label;  // a binary ENUM's labels are its bytes, as before (not bytea hex)
    }
    return render_chars(map, column, options, reinterpret_cast<const uint8_t*>(label.data()),
                        label.size());
}

template <typename F>
std::string render_float(F v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v < 0 ? "-Infinity" : "Infinity";
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string render_decimal(const uint8_t* p, size_t size, uint16_t meta) {
    int precision = meta >> 8;
    int scale = meta & 0xff;
    int intg = precision - scale;
    std::string buf(reinterpret_cast<const char*>(p), size);
    bool negative = (static_cast<uint8_t>(buf[0]) & 0x80) == 0;
    buf[0] = static_cast<char>(buf[0] ^ 0x80);
    if (negative) {
        for (auto& ch : buf) {
            ch = static_cast<char>(~ch);
        }
    }
    const auto* d = reinterpret_cast<const uint8_t*>(buf.data());
    size_t pos = 0;
    std::string int_digits;
    auto group = [&](int digits) {
        size_t nb = digits == 9 ? 4 : static_cast<size_t>(kDig2Bytes[digits]);
        uint64_t v = read_be(d + pos, nb);
        pos += nb;
        return fmt::format("{:0{}}", v, digits);
    };
    if (intg % 9 != 0) {
        int_digits += group(intg % 9);
    }
    for (int i = 0; i < intg / 9; ++i) {
        int_digits += group(9);
    }
    std::string frac_digits;
    for (int i = 0; i < scale / 9; ++i) {
        frac_digits += group(9);
    }
    if (scale % 9 != 0) {
        frac_digits += group(scale % 9);
    }
    size_t nz = int_digits.find_first_not_of('0');
    int_digits = nz == std::string::npos ? "0" : int_digits.substr(nz);
    bool zero = int_digits == "0" && frac_digits.find_first_not_of('0') == std::string::npos;
    std::string out = negative && !zero ? "-" : "";
    out += int_digits;
    if (scale > 0) {
        out += '.';
        out += frac_digits;
    }
    return out;
}

// Fractional seconds of DATETIME2/TIMESTAMP2 (unsigned, big-endian) as microseconds.
uint32_t read_frac_us(const uint8_t* p, uint16_t fsp) {
    switch (frac_bytes(fsp)) {
        case 1:
            return static_cast<uint32_t>(p[0]) * 10000;
        case 2:
            return static_cast<uint32_t>(read_be(p, 2)) * 100;
        case 3:
            return static_cast<uint32_t>(read_be(p, 3));
        default:
            return 0;
    }
}

std::string frac_text(uint32_t us, uint16_t fsp) {
    if (fsp == 0) {
        return {};
    }
    std::string s = fmt::format(".{:06}", us);
    s.resize(1 + std::min<size_t>(fsp, 6));
    return s;
}

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    auto doe = static_cast<unsigned>(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

std::string render_timestamp(uint64_t secs, uint32_t us, uint16_t fsp) {
    int64_t y = 0;
    unsigned m = 0;
    unsigned d = 0;
    auto s = static_cast<int64_t>(secs);
    civil_from_days(s / 86400, y, m, d);
    int64_t rem = s % 86400;
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}+00", y, m, d, rem / 3600,
                       rem / 60 % 60, rem % 60, frac_text(us, fsp));
}

std::string render_time(bool neg, uint64_t h, uint64_t mi, uint64_t s, uint32_t us, uint16_t fsp) {
    return fmt::format("{}{:02}:{:02}:{:02}{}", neg ? "-" : "", h, mi, s, frac_text(us, fsp));
}

}  // namespace

size_t value_length(const TableColumn& column, const uint8_t* data, size_t available) {
    auto prefixed = [&](size_t prefix) -> size_t {
        if (available < prefix) {
            return prefix;  // caller reports the overrun
        }
        return prefix + read_le(data, prefix);
    };
    switch (effective_type(column)) {
        case kTiny:
        case kYear:
            return 1;
        case kShort:
            return 2;
        case kInt24:
        case kDate:
        case kNewDate:
        case kTime:
            return 3;
        case kLong:
        case kFloat:
        case kTimestamp:
            return 4;
        case kLongLong:
        case kDouble:
        case kDateTime:
            return 8;
        case kNull:
            return 0;
        case kNewDecimal:
            return decimal_size(column.meta);
        case kBit:
            return (column.meta >> 8) + ((column.meta & 0xff) != 0 ? 1 : 0);
        case kTimestamp2:
            return 4 + frac_bytes(column.meta);
        case kDateTime2:
            return 5 + frac_bytes(column.meta);
        case kTime2:
            return 3 + frac_bytes(column.meta);
        case kVarchar:
        case kVarString:
            return prefixed(column.meta > 255 ? 2 : 1);
        case kString:
            return prefixed(string_prefix(column));
        case kEnum:
            return enum_size(column);
        case kSet:
            return set_size(column);
        case kBlob:
        case kTinyBlob:
        case kMediumBlob:
        case kLongBlob:
        case kJson:
        case kGeometry:
            return prefixed(column.meta);
        default:
            throw fatal(fmt::format("unsupported column type {} in a row event", column.type));
    }
}

size_t decode_value(const TableMap& map, size_t column, const ValueOptions& options,
                    const uint8_t* data, size_t available, Datum& out) {
    const TableColumn& c = map.columns[column];
    uint8_t type = effective_type(c);
    size_t len = 0;
    try {
        len = value_length(c, data, available);
    } catch (const Error& e) {
        column_fail(map, column, e.what());
    }
    if (len > available) {
        column_fail(map, column,
                    fmt::format("value of type {} needs {} bytes but the row image has {} left",
                                c.type, len, available));
    }
    auto zero_date = [&]() {
        if (options.zero_date == ValueOptions::ZeroDate::kError) {
            column_fail(map, column,
                        "zero date '0000-00-00' cannot be replicated (--zeroDates error); run "
                        "with --zeroDates null to replicate it as NULL, or fix the row");
        }
        out = Datum::null();
        return len;
    };
    auto prefixed_body = [&](size_t prefix) { return std::make_pair(data + prefix, len - prefix); };
    switch (type) {
        case kTiny:
        case kShort:
        case kInt24:
        case kLong:
        case kLongLong: {
            uint64_t v = read_le(data, len);
            out = Datum::value(c.is_unsigned ? std::to_string(v)
                                             : std::to_string(sign_extend(v, len)));
            return len;
        }
        case kFloat: {
            float f = 0;
            auto bits = static_cast<uint32_t>(read_le(data, 4));
            std::memcpy(&f, &bits, 4);
            out = Datum::value(render_float(f));
            return len;
        }
        case kDouble: {
            double f = 0;
            uint64_t bits = read_le(data, 8);
            std::memcpy(&f, &bits, 8);
            out = Datum::value(render_float(f));
            return len;
        }
        case kNull:
            out = Datum::null();
            return 0;
        case kNewDecimal: {
            int precision = c.meta >> 8;
            int scale = c.meta & 0xff;
            if (precision == 0 || scale > precision || len == 0) {
                column_fail(map, column,
                            fmt::format("invalid DECIMAL({},{}) metadata", precision, scale));
            }
            out = Datum::value(render_decimal(data, len, c.meta));
            return len;
        }
        case kBit: {
            size_t nbits = (c.meta >> 8) * 8 + (c.meta & 0xff);
            std::string s(nbits, '0');
            for (size_t i = 0; i < nbits; ++i) {
                // bit i counted from the least significant bit of the big-endian value
                size_t byte = len - 1 - i / 8;
                if ((data[byte] >> (i % 8)) & 1) {
                    s[nbits - 1 - i] = '1';
                }
            }
            out = Datum::value(std::move(s));
            return len;
        }
        case kYear:
            out = Datum::value(data[0] == 0 ? "0" : std::to_string(1900 + data[0]));
            return len;
        case kDate:
        case kNewDate: {
            auto v = static_cast<uint32_t>(read_le(data, 3));
            unsigned d = v & 31;
            unsigned m = (v >> 5) & 15;
            unsigned y = v >> 9;
            if (y == 0 || m == 0 || d == 0) {
                return zero_date();
            }
            out = Datum::value(fmt::format("{:04}-{:02}-{:02}", y, m, d));
            return len;
        }
        case kTime: {
            int64_t v = sign_extend(read_le(data, 3), 3);
            bool neg = v < 0;
            uint64_t a = static_cast<uint64_t>(neg ? -v : v);
            out = Datum::value(render_time(neg, a / 10000, a / 100 % 100, a % 100, 0, 0));
            return len;
        }
        case kTime2: {
            uint16_t fsp = c.meta;
            int64_t intpart = static_cast<int64_t>(read_be(data, 3)) - 0x800000;
            int64_t frac = 0;
            switch (frac_bytes(fsp)) {
                case 1:
                    frac = data[3];
                    if (intpart < 0 && frac != 0) {
                        intpart++;
                        frac -= 0x100;
                    }
                    frac *= 10000;
                    break;
                case 2:
                    frac = static_cast<int64_t>(read_be(data + 3, 2));
                    if (intpart < 0 && frac != 0) {
                        intpart++;
                        frac -= 0x10000;
                    }
                    frac *= 100;
                    break;
                case 3:
                    frac = static_cast<int64_t>(read_be(data + 3, 3));
                    if (intpart < 0 && frac != 0) {
                        intpart++;
                        frac -= 0x1000000;
                    }
                    break;
                default:
                    break;
            }
            // MySQL's packed time: (intpart << 24) + frac, negated as a whole.
            int64_t packed = intpart * (int64_t{1} << 24) + frac;
            bool neg = packed < 0;
            auto a = static_cast<uint64_t>(neg ? -packed : packed);
            uint64_t hms = a >> 24;
            auto us = static_cast<uint32_t>(a % (1u << 24));
            out = Datum::value(
                render_time(neg, (hms >> 12) % (1 << 10), (hms >> 6) % 64, hms % 64, us, fsp));
            return len;
        }
        case kDateTime: {
            uint64_t v = read_le(data, 8);
            uint64_t ymd = v / 1000000;
            uint64_t hms = v % 1000000;
            uint64_t y = ymd / 10000;
            uint64_t m = ymd / 100 % 100;
            uint64_t d = ymd % 100;
            if (y == 0 || m == 0 || d == 0) {
                return zero_date();
            }
            out = Datum::value(fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, m, d,
                                           hms / 10000, hms / 100 % 100, hms % 100));
            return len;
        }
        case kDateTime2: {
            uint16_t fsp = c.meta;
            int64_t intpart = static_cast<int64_t>(read_be(data, 5)) - 0x8000000000LL;
            uint32_t us = read_frac_us(data + 5, fsp);
            if (intpart < 0) {
                column_fail(map, column, "negative DATETIME value");
            }
            auto u = static_cast<uint64_t>(intpart);
            uint64_t ymd = u >> 17;
            uint64_t hms = u % (1 << 17);
            uint64_t ym = ymd >> 5;
            uint64_t d = ymd % 32;
            uint64_t y = ym / 13;
            uint64_t m = ym % 13;
            if (y == 0 || m == 0 || d == 0) {
                return zero_date();
            }
            out =
                Datum::value(fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}", y, m, d,
                                         hms >> 12, (hms >> 6) % 64, hms % 64, frac_text(us, fsp)));
            return len;
        }
        case kTimestamp: {
            uint64_t secs = read_le(data, 4);
            if (secs == 0) {
                return zero_date();
            }
            out = Datum::value(render_timestamp(secs, 0, 0));
            return len;
        }
        case kTimestamp2: {
            uint16_t fsp = c.meta;
            uint64_t secs = read_be(data, 4);
            uint32_t us = read_frac_us(data + 4, fsp);
            if (secs == 0 && us == 0) {
                return zero_date();
            }
            out = Datum::value(render_timestamp(secs, us, fsp));
            return len;
        }
        case kVarchar:
        case kVarString: {
            auto [p, n] = prefixed_body(c.meta > 255 ? 2 : 1);
            out = Datum::value(render_chars(map, column, options, p, n));
            return len;
        }
        case kString: {
            auto [p, n] = prefixed_body(string_prefix(c));
            if (c.collation == kBinaryCollation && n < c.meta) {
                // BINARY(n) is stored with its trailing 0x00 padding stripped; the column value
                // is the full n bytes.
                std::string padded(reinterpret_cast<const char*>(p), n);
                padded.resize(c.meta, '\0');
                out = Datum::value(
                    hex_bytea(reinterpret_cast<const uint8_t*>(padded.data()), padded.size()));
                return len;
            }
            out = Datum::value(render_chars(map, column, options, p, n));
            return len;
        }
        case kBlob:
        case kTinyBlob:
        case kMediumBlob:
        case kLongBlob: {
            auto [p, n] = prefixed_body(c.meta);
            out = Datum::value(render_chars(map, column, options, p, n));
            return len;
        }
        case kGeometry: {
            auto [p, n] = prefixed_body(c.meta);
            out = Datum::value(hex_bytea(p, n));
            return len;
        }
        case kJson: {
            auto [p, n] = prefixed_body(c.meta);
            try {
                out = Datum::value(
                    mysql_json_to_text(std::string_view(reinterpret_cast<const char*>(p), n)));
            } catch (const Error& e) {
                column_fail(map, column, e.what());
            }
            return len;
        }
        case kEnum: {
            uint64_t idx = read_le(data, len);
            if (idx == 0) {
                out = Datum::value("");  // MySQL's "invalid value" index
            } else if (idx <= c.enum_values.size()) {
                out = Datum::value(render_label(map, column, options, c.enum_values[idx - 1]));
            } else if (c.enum_values.empty()) {
                column_fail(map, column,
                            "ENUM labels unknown (set binlog_row_metadata=FULL or use "
                            "--fetchMetadata)");
            } else {
                column_fail(map, column,
                            fmt::format("ENUM index {} out of range ({} labels)", idx,
                                        c.enum_values.size()));
            }
            return len;
        }
        case kSet: {
            uint64_t bits = read_le(data, len);
            std::string s;
            for (size_t i = 0; i < 64 && (bits >> i) != 0; ++i) {
                if (((bits >> i) & 1) == 0) {
                    continue;
                }
                if (i >= c.set_values.size()) {
                    column_fail(map, column,
                                c.set_values.empty()
                                    ? std::string("SET members unknown (set "
                                                  "binlog_row_metadata=FULL or use "
                                                  "--fetchMetadata)")
                                    : fmt::format("SET bit {} out of range ({} members)", i,
                                                  c.set_values.size()));
                }
                if (!s.empty()) {
                    s += ',';
                }
                s += render_label(map, column, options, c.set_values[i]);
            }
            out = Datum::value(std::move(s));
            return len;
        }
        default:
            column_fail(map, column, fmt::format("unsupported column type {}", c.type));
    }
}

}  // namespace rep::mysql
