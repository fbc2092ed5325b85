#include "source/mysql/mysql_json.h"

#include "base/error.h"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace rep::mysql {
namespace {

// Type bytes of MySQL's json_binary format.
enum JsonType : uint8_t {
    kSmallObject = 0x00,
    kLargeObject = 0x01,
    kSmallArray = 0x02,
    kLargeArray = 0x03,
    kLiteral = 0x04,
    kInt16 = 0x05,
    kUint16 = 0x06,
    kInt32 = 0x07,
    kUint32 = 0x08,
    kInt64 = 0x09,
    kUint64 = 0x0a,
    kDouble = 0x0b,
    kString = 0x0c,
    kOpaque = 0x0f,
};

// Literal payloads of kLiteral.
constexpr uint8_t kLiteralNull = 0x00;
constexpr uint8_t kLiteralTrue = 0x01;
constexpr uint8_t kLiteralFalse = 0x02;

// enum_field_types values that give an opaque value its JSON meaning.
constexpr uint8_t kFieldTimestamp = 7;
constexpr uint8_t kFieldDate = 10;
constexpr uint8_t kFieldTime = 11;
constexpr uint8_t kFieldDatetime = 12;
constexpr uint8_t kFieldNewDecimal = 246;

// MySQL refuses documents nested deeper than 100; a little slack, and a bound on recursion.
constexpr int kMaxDepth = 150;

// Bytes used by a partial group of 0..9 decimal digits in MySQL's binary DECIMAL.
constexpr int kDigitsToBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr uint32_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                 100000, 1000000, 10000000, 100000000, 1000000000};

class Decoder {
public:
    explicit Decoder(std::string_view buf) : buf_(buf) {}

    std::string run() {
        if (buf_.empty()) {
            return "null";
        }
        value(u8(0), 1, buf_.size(), 0);
        return std::move(out_);
    }

private:
    [[noreturn]] void fail(size_t at, std::string_view what) const {
        throw fatal(fmt::format("malformed MySQL binary JSON value ({} bytes): {} at byte {}",
                                buf_.size(), what, at));
    }

    // Every read names the end of the enclosing value so an offset cannot escape its container.
    void need(size_t pos, size_t n, size_t end) const {
        if (pos > end || end - pos < n) {
            fail(pos,
                 fmt::format("needs {} bytes but only {} remain", n, pos > end ? 0 : end - pos));
        }
    }
    uint8_t u8(size_t pos) const { return static_cast<uint8_t>(buf_[pos]); }
    uint64_t le(size_t pos, size_t n, size_t end) const {
        need(pos, n, end);
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) {
            v |= static_cast<uint64_t>(u8(pos + i)) << (8 * i);
        }
        return v;
    }

    // MySQL's variable-length size: 7 bits per byte, low group first, high bit = more follows,
    // at most five bytes and at most 2^32 - 1. Advances pos past it.
    uint32_t varlen(size_t& pos, size_t end) const {
        uint64_t len = 0;
        for (int i = 0; i < 5; ++i) {
            need(pos, 1, end);
            uint8_t b = u8(pos++);
            len |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                if (len > UINT32_MAX) {
                    fail(pos, "variable-length size exceeds 32 bits");
                }
                return static_cast<uint32_t>(len);
            }
        }
        fail(pos, "variable-length size longer than 5 bytes");
    }

    // The value of type `type` whose bytes start at `pos` and lie before `end`.
    void value(uint8_t type, size_t pos, size_t end, int depth) {
        switch (type) {
            case kSmallObject:
            case kLargeObject:
            case kSmallArray:
            case kLargeArray:
                if (depth >= kMaxDepth) {
                    fail(pos, fmt::format("JSON nested deeper than {} levels", kMaxDepth));
                }
                container(type == kSmallObject || type == kLargeObject,
                          type == kLargeObject || type == kLargeArray, pos, end, depth + 1);
                return;
            case kLiteral:
                need(pos, 1, end);
                switch (u8(pos)) {
                    case kLiteralNull:
                        out_ += "null";
                        return;
                    case kLiteralTrue:
                        out_ += "true";
                        return;
                    case kLiteralFalse:
                        out_ += "false";
                        return;
                    default:
                        fail(pos, fmt::format("unknown literal 0x{:02x}", u8(pos)));
                }
            case kInt16:
                out_ += fmt::format("{}", static_cast<int16_t>(le(pos, 2, end)));
                return;
            case kUint16:
                out_ += fmt::format("{}", static_cast<uint16_t>(le(pos, 2, end)));
                return;
            case kInt32:
                out_ += fmt::format("{}", static_cast<int32_t>(le(pos, 4, end)));
                return;
            case kUint32:
                out_ += fmt::format("{}", static_cast<uint32_t>(le(pos, 4, end)));
                return;
            case kInt64:
                out_ += fmt::format("{}", static_cast<int64_t>(le(pos, 8, end)));
                return;
            case kUint64:
                out_ += fmt::format("{}", le(pos, 8, end));
                return;
            case kDouble:
                append_double(pos, std::bit_cast<double>(le(pos, 8, end)));
                return;
            case kString: {
                uint32_t len = varlen(pos, end);
                need(pos, len, end);
                append_string(pos, buf_.substr(pos, len));
                return;
            }
            case kOpaque: {
                need(pos, 1, end);
                uint8_t field_type = u8(pos++);
                uint32_t len = varlen(pos, end);
                need(pos, len, end);
                opaque(field_type, pos, buf_.substr(pos, len));
                return;
            }
            default:
                fail(pos, fmt::format("unknown JSON value type 0x{:02x}", type));
        }
    }

    // Objects and arrays: count, size, [key entries], value entries, then keys and values.
    // Offsets count from the start of the count field; `large` widens counts, sizes and offsets
    // from 2 to 4 bytes (key lengths stay 2 bytes).
    void container(bool object, bool large, size_t start, size_t end, int depth) {
        const size_t w = large ? 4 : 2;
        const uint64_t count = le(start, w, end);
        const uint64_t size = le(start + w, w, end);
        if (size > end - start) {
            fail(start, fmt::format("container size {} exceeds the {} bytes available", size,
                                    end - start));
        }
        const size_t cend = start + size;
        const size_t key_entry = w + 2;
        const size_t value_entry = 1 + w;
        const uint64_t header = 2 * w + count * ((object ? key_entry : 0) + value_entry);
        if (count > size || header > size) {
            fail(start, fmt::format("{} elements do not fit a container of {} bytes", count, size));
        }
        const size_t keys_at = start + 2 * w;
        const size_t values_at = keys_at + (object ? count * key_entry : 0);
        out_ += object ? '{' : '[';
        for (size_t i = 0; i < count; ++i) {
            if (i > 0) {
                out_ += ", ";
            }
            if (object) {
                size_t k = keys_at + i * key_entry;
                uint64_t key_off = le(k, w, cend);
                uint64_t key_len = le(k + w, 2, cend);
                if (key_off > size) {
                    fail(k,
                         fmt::format("key offset {} beyond container of {} bytes", key_off, size));
                }
                need(start + key_off, key_len, cend);
                append_string(start + key_off, buf_.substr(start + key_off, key_len));
                out_ += ": ";
            }
            size_t v = values_at + i * value_entry;
            uint8_t type = u8(v);
            bool inlined = type == kLiteral || type == kInt16 || type == kUint16 ||
                           (large && (type == kInt32 || type == kUint32));
            if (inlined) {
                value(type, v + 1, v + 1 + w, depth);
            } else {
                uint64_t off = le(v + 1, w, cend);
                if (off >= size) {
                    fail(v + 1,
                         fmt::format("value offset {} beyond container of {} bytes", off, size));
                }
                value(type, start + off, cend, depth);
            }
        }
        out_ += object ? '}' : ']';
    }

    void append_double(size_t pos, double d) {
        if (!std::isfinite(d)) {
            fail(pos, "non-finite double");
        }
        char buf[64];
        auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
        if (ec != std::errc()) {
            fail(pos, "cannot format double");
        }
        std::string_view s(buf, ptr - buf);
        out_ += s;
        // Like MySQL, keep a double looking like one: 3.0, not 3.
        if (s.find_first_of(".e") == std::string_view::npos) {
            out_ += ".0";
        }
    }

    // A JSON string literal. The bytes must be valid UTF-8 (MySQL stores utf8mb4); they are
    // copied as is, with quotes, backslashes and control characters escaped.
    void append_string(size_t pos, std::string_view s) {
        out_ += '"';
        for (size_t i = 0; i < s.size();) {
            uint8_t c = static_cast<uint8_t>(s[i]);
            if (c < 0x80) {
                switch (c) {
                    case '"':
                        out_ += "\\\"";
                        break;
                    case '\\':
                        out_ += "\\\\";
                        break;
                    case '\b':
                        out_ += "\\b";
                        break;
                    case '\f':
                        out_ += "\\f";
                        break;
                    case '\n':
                        out_ += "\\n";
                        break;
                    case '\r':
                        out_ += "\\r";
                        break;
                    case '\t':
                        out_ += "\\t";
                        break;
                    default:
                        if (c < 0x20) {
                            out_ += fmt::format("\\u{:04x}", c);
                        } else {
                            out_ += static_cast<char>(c);
                        }
                }
                ++i;
                continue;
            }
            size_t n = utf8_sequence_length(s.substr(i));
            if (n == 0) {
                fail(pos + i, "invalid UTF-8 in string");
            }
            out_ += s.substr(i, n);
            i += n;
        }
        out_ += '"';
    }

    // Length of the well-formed UTF-8 sequence (2..4 bytes) at the start of s, or 0.
    static size_t utf8_sequence_length(std::string_view s) {
        auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
        uint8_t c = b(0);
        size_t n;
        uint8_t lo = 0x80;
        uint8_t hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;  // no overlong forms
            hi = c == 0xed ? 0x9f : 0xbf;  // no surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;  // nothing above U+10FFFF
        } else {
            return 0;
        }
        if (s.size() < n || b(1) < lo || b(1) > hi) {
            return 0;
        }
        for (size_t i = 2; i < n; ++i) {
            if (b(i) < 0x80 || b(i) > 0xbf) {
                return 0;
            }
        }
        return n;
    }

    // Opaque values: DATE/TIME/DATETIME/TIMESTAMP and DECIMAL render as MySQL prints them;
    // anything else as MySQL's "base64:type<N>:<data>" string.
    void opaque(uint8_t field_type, size_t pos, std::string_view data) {
        switch (field_type) {
            case kFieldDate:
            case kFieldDatetime:
            case kFieldTimestamp:
            case kFieldTime:
                out_ += '"';
                out_ += packed_time(field_type, pos, data);
                out_ += '"';
                return;
            case kFieldNewDecimal:
                out_ += decimal(pos, data);
                return;
            default:
                out_ += fmt::format("\"base64:type{}:", field_type);
                append_base64(data);
                out_ += '"';
        }
    }

    // MySQL's packed temporal longlong (my_time.h): the low 24 bits are microseconds; above them
    // DATE/DATETIME/TIMESTAMP pack ((year*13+month)<<5|day)<<17 | hour<<12|minute<<6|second,
    // and TIME packs hours<<12|minute<<6|second. Negative values are negated.
    std::string packed_time(uint8_t field_type, size_t pos, std::string_view data) const {
        if (data.size() != 8) {
            fail(pos, fmt::format("temporal opaque value of {} bytes, expected 8", data.size()));
        }
        auto raw = static_cast<int64_t>(le(pos, 8, pos + 8));
        bool neg = raw < 0;
        uint64_t packed = neg ? 0 - static_cast<uint64_t>(raw) : static_cast<uint64_t>(raw);
        uint64_t frac = packed % (1ULL << 24);
        uint64_t whole = packed >> 24;
        if (field_type == kFieldTime) {
            uint64_t hms = whole;
            return fmt::format("{}{:02}:{:02}:{:02}.{:06}", neg ? "-" : "", (hms >> 12) % (1 << 10),
                               (hms >> 6) % (1 << 6), hms % (1 << 6), frac);
        }
        if (neg) {
            fail(pos, "negative date/time value");
        }
        uint64_t ymd = whole >> 17;
        uint64_t ym = ymd >> 5;
        uint64_t hms = whole % (1 << 17);
        uint64_t year = ym / 13;
        uint64_t month = ym % 13;
        uint64_t day = ymd % (1 << 5);
        if (year > 9999) {
            fail(pos, fmt::format("year {} out of range", year));
        }
        if (field_type == kFieldDate) {
            return fmt::format("{:04}-{:02}-{:02}", year, month, day);
        }
        return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", year, month, day, hms >> 12,
                           (hms >> 6) % (1 << 6), hms % (1 << 6), frac);
    }

    // NEWDECIMAL opaque data: precision byte, scale byte, then MySQL's binary DECIMAL
    // (decimal2bin): integer then fraction digits in big-endian groups of nine (four bytes),
    // partial groups in fewer bytes, sign bit of the first byte flipped, all bytes inverted
    // when negative. Rendered with `scale` fraction digits as MySQL does ("1.50").
    std::string decimal(size_t pos, std::string_view data) const {
        if (data.size() < 2) {
            fail(pos, "DECIMAL opaque value without precision and scale");
        }
        int precision = static_cast<uint8_t>(data[0]);
        int scale = static_cast<uint8_t>(data[1]);
        if (precision < 1 || precision > 65 || scale > 30 || scale > precision) {
            fail(pos, fmt::format("bad DECIMAL({}, {})", precision, scale));
        }
        int intg = precision - scale;
        int intg0 = intg / 9;
        int intg0x = intg % 9;
        int frac0 = scale / 9;
        int frac0x = scale % 9;
        int bin_bytes = intg0 * 4 + kDigitsToBytes[intg0x] + frac0 * 4 + kDigitsToBytes[frac0x];
        auto bin_size = static_cast<size_t>(bin_bytes);
        if (data.size() - 2 != bin_size) {
            fail(pos, fmt::format("DECIMAL({}, {}) needs {} bytes, got {}", precision, scale,
                                  bin_size, data.size() - 2));
        }
        std::string bin(data.substr(2));
        bool neg = (static_cast<uint8_t>(bin[0]) & 0x80) == 0;
        bin[0] = static_cast<char>(static_cast<uint8_t>(bin[0]) ^ 0x80);
        if (neg) {
            for (char& c : bin) {
                c = static_cast<char>(~static_cast<uint8_t>(c));
            }
        }
        size_t at = 0;
        auto group = [&](int digits) -> uint32_t {
            int n = kDigitsToBytes[digits];
            uint32_t v = 0;
            for (int i = 0; i < n; ++i) {
                v = (v << 8) | static_cast<uint8_t>(bin[at++]);
            }
            if (v >= kPow10[digits]) {
                fail(pos, fmt::format("DECIMAL digit group {} exceeds {} digits", v, digits));
            }
            return v;
        };
        std::string int_digits;
        if (intg0x > 0) {
            int_digits += fmt::format("{:0{}}", group(intg0x), intg0x);
        }
        for (int i = 0; i < intg0; ++i) {
            int_digits += fmt::format("{:09}", group(9));
        }
        std::string frac_digits;
        for (int i = 0; i < frac0; ++i) {
            frac_digits += fmt::format("{:09}", group(9));
        }
        if (frac0x > 0) {
            frac_digits += fmt::format("{:0{}}", group(frac0x), frac0x);
        }
        size_t nz = int_digits.find_first_not_of('0');
        int_digits = nz == std::string::npos ? "0" : int_digits.substr(nz);
        bool zero = int_digits == "0" && frac_digits.find_first_not_of('0') == std::string::npos;
        std::string s = neg && !zero ? "-" : "";
        s += int_digits;
        if (!frac_digits.empty()) {
            s += '.';
            s += frac_digits;
        }
        return s;
    }

    void append_base64(std::string_view data) {
        static constexpr char kAlphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i = 0;
        for (; i + 3 <= data.size(); i += 3) {
            uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(data[i])) << 16 |
                         static_cast<uint32_t>(static_cast<uint8_t>(data[i + 1])) << 8 |
                         static_cast<uint8_t>(data[i + 2]);
            out_ += kAlphabet[(v >> 18) & 63];
            out_ += kAlphabet[(v >> 12) & 63];
            out_ += kAlphabet[(v >> 6) & 63];
            out_ += kAlphabet[v & 63];
        }
        if (size_t rest = data.size() - i; rest > 0) {
            uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(data[i])) << 16;
            if (rest == 2) {
                v |= static_cast<uint32_t>(static_cast<uint8_t>(data[i + 1])) << 8;
            }
            out_ += kAlphabet[(v >> 18) & 63];
            out_ += kAlphabet[(v >> 12) & 63];
            out_ += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
            out_ += '=';
        }
    }

    std::string_view buf_;
    std::string out_;
};

}  // namespace

std::string mysql_json_to_text(std::string_view binary) {
    return Decoder(binary).run();
}

}  // namespace rep::mysql
