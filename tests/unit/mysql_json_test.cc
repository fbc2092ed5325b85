#include "source/mysql/mysql_json.h"

#include "base/error.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace rep::mysql {
namespace {

// Fixtures are built by hand from MySQL's json_binary layout: a type byte, then the value.
// Containers: count and size (uint16 small / uint32 large), key entries (offset + uint16
// length), value entries (type + offset or inlined value); offsets count from the count field.
std::string bytes(std::initializer_list<int> v) {
    std::string s;
    for (int b : v) {
        s.push_back(static_cast<char>(b));
    }
    return s;
}

std::string json(const std::string& binary) {
    return mysql_json_to_text(binary);
}

// Expects a fatal error that names a byte offset.
void expect_malformed(const std::string& binary, const std::string& fragment) {
    try {
        mysql_json_to_text(binary);
        ADD_FAILURE() << "no error for " << fragment;
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        std::string what = e.what();
        EXPECT_NE(what.find(fragment), std::string::npos) << what;
        EXPECT_NE(what.find("at byte"), std::string::npos) << what;
    }
}

TEST(MysqlJson, EmptyInputIsNull) {
    EXPECT_EQ(json(""), "null");
}

TEST(MysqlJson, Literals) {
    // Type 0x04 with literal byte 0x00 null, 0x01 true, 0x02 false.
    EXPECT_EQ(json(bytes({0x04, 0x00})), "null");
    EXPECT_EQ(json(bytes({0x04, 0x01})), "true");
    EXPECT_EQ(json(bytes({0x04, 0x02})), "false");
}

TEST(MysqlJson, Integers) {
    // 0x05 int16, 0x06 uint16, 0x07 int32, 0x08 uint32, 0x09 int64, 0x0a uint64; little-endian.
    EXPECT_EQ(json(bytes({0x05, 0xff, 0xff})), "-1");
    EXPECT_EQ(json(bytes({0x05, 0x00, 0x80})), "-32768");
    EXPECT_EQ(json(bytes({0x06, 0xff, 0xff})), "65535");
    EXPECT_EQ(json(bytes({0x07, 0x00, 0x00, 0x00, 0x80})), "-2147483648");
    EXPECT_EQ(json(bytes({0x08, 0xff, 0xff, 0xff, 0xff})), "4294967295");
    EXPECT_EQ(json(bytes({0x09, 0, 0, 0, 0, 0, 0, 0, 0x80})), "-9223372036854775808");
    EXPECT_EQ(json(bytes({0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})),
              "9223372036854775807");
    EXPECT_EQ(json(bytes({0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})),
              "18446744073709551615");
}

TEST(MysqlJson, Doubles) {
    // 0x0b: IEEE 754 double, little-endian; shortest round-trip text, integral values keep ".0".
    EXPECT_EQ(json(bytes({0x0b, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f})), "0.1");
    EXPECT_EQ(json(bytes({0x0b, 0, 0, 0, 0, 0, 0, 0x08, 0x40})), "3.0");
    EXPECT_EQ(json(bytes({0x0b, 0, 0, 0, 0, 0, 0, 0x04, 0xc0})), "-2.5");
    // 1e300 (0x7e37e43c8800759c) comes out in exponent form, still a JSON number.
    EXPECT_EQ(json(bytes({0x0b, 0x9c, 0x75, 0x00, 0x88, 0x3c, 0xe4, 0x37, 0x7e})), "1e+300");
}

TEST(MysqlJson, Strings) {
    // 0x0c: variable-length size (7 bits a byte, high bit = more) then utf8mb4 bytes.
    EXPECT_EQ(json(bytes({0x0c, 0x03, 'a', 'b', 'c'})), "\"abc\"");
    EXPECT_EQ(json(bytes({0x0c, 0x00})), "\"\"");
    // 200 = 0x48 | 0x80, then 0x01: a two-byte size.
    std::string long_string = bytes({0x0c, 0xc8, 0x01}) + std::string(200, 'x');
    EXPECT_EQ(json(long_string), "\"" + std::string(200, 'x') + "\"");
}

TEST(MysqlJson, StringEscapingAndUnicode) {
    // Quote, backslash, named and \u-escaped control characters; multi-byte UTF-8 (é, €, an
    // emoji) and '/' pass through unchanged.
    std::string s = "q\"b\\n\nt\t\x01\x1f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    std::string binary = bytes({0x0c, static_cast<int>(s.size())}) + s;
    EXPECT_EQ(json(binary),
              "\"q\\\"b\\\\n\\nt\\t\\u0001\\u001f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

TEST(MysqlJson, SmallObjectWithNestedArray) {
    // {"a": 1, "b": [true, "x"]} as a small object (0x00): count 2, size 32, key entries at 4
    // and 8, value entries at 12 ("a": int16 1 inlined) and 15 ("b": small array at offset 20),
    // keys "a" "b" at 18 and 19. The array: count 2, size 12, an inlined true, then a string
    // entry pointing at offset 10 of the array, where the string "x" lives.
    std::string binary = bytes({0x00,                    // small object
                                0x02, 0x00, 0x20, 0x00,  // count 2, size 32
                                0x12, 0x00, 0x01, 0x00,  // key "a" at 18, length 1
                                0x13, 0x00, 0x01, 0x00,  // key "b" at 19, length 1
                                0x05, 0x01, 0x00,        // int16 1, inlined
                                0x02, 0x14, 0x00,        // small array at 20
                                'a',  'b',               // the keys
                                0x02, 0x00, 0x0c, 0x00,  // array: count 2, size 12
                                0x04, 0x01, 0x00,        // literal true, inlined
                                0x0c, 0x0a, 0x00,        // string at array offset 10
                                0x01, 'x'});
    EXPECT_EQ(json(binary), "{\"a\": 1, \"b\": [true, \"x\"]}");
}

TEST(MysqlJson, SmallArrayOfEveryScalar) {
    // Small array (0x02) of 8: int32, uint32, int64, uint64 and double are stored after the
    // 28-byte header via offsets; literal, int16 and uint16 are inlined in their value entries.
    std::string binary = bytes({0x02, 0x08, 0x00, 0x3c, 0x00,  // count 8, size 60
                                0x07, 0x1c, 0x00,              // int32 at 28
                                0x08, 0x20, 0x00,              // uint32 at 32
                                0x09, 0x24, 0x00,              // int64 at 36
                                0x0a, 0x2c, 0x00,              // uint64 at 44
                                0x0b, 0x34, 0x00,              // double at 52
                                0x04, 0x00, 0x00,              // null, inlined
                                0x05, 0xfe, 0xff,              // int16 -2, inlined
                                0x06, 0x07, 0x00,              // uint16 7, inlined
                                0xfb, 0xff, 0xff, 0xff,        // -5
                                0x00, 0x28, 0x6b, 0xee,        // 4000000000
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,    // -1
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,    // 2^64-1
                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f});  // 0.5
    EXPECT_EQ(json(binary), "[-5, 4000000000, -1, 18446744073709551615, 0.5, null, -2, 7]");
}

TEST(MysqlJson, EmptyContainers) {
    // Count 0 and size 4 (just the header), small and large (count and size 4 bytes each).
    EXPECT_EQ(json(bytes({0x00, 0x00, 0x00, 0x04, 0x00})), "{}");
    EXPECT_EQ(json(bytes({0x02, 0x00, 0x00, 0x04, 0x00})), "[]");
    EXPECT_EQ(json(bytes({0x01, 0, 0, 0, 0, 0x08, 0, 0, 0})), "{}");
    EXPECT_EQ(json(bytes({0x03, 0, 0, 0, 0, 0x08, 0, 0, 0})), "[]");
}

TEST(MysqlJson, LargeObject) {
    // {"k": -7, "s": "hi"} as a large object (0x01): uint32 count and size, key entries of
    // uint32 offset + uint16 length, value entries of type + uint32, int32 inlined (large only).
    std::string binary = bytes({0x01,                                // large object
                                0x02, 0x00, 0x00, 0x00,              // count 2
                                0x23, 0x00, 0x00, 0x00,              // size 35
                                0x1e, 0x00, 0x00, 0x00, 0x01, 0x00,  // key "k" at 30
                                0x1f, 0x00, 0x00, 0x00, 0x01, 0x00,  // key "s" at 31
                                0x07, 0xf9, 0xff, 0xff, 0xff,        // int32 -7, inlined
                                0x0c, 0x20, 0x00, 0x00, 0x00,        // string at 32
                                'k',  's',  0x02, 'h',  'i'});
    EXPECT_EQ(json(binary), "{\"k\": -7, \"s\": \"hi\"}");
}

TEST(MysqlJson, LargeArrayWithNestedSmallObject) {
    // [100000, {}] as a large array (0x03): uint32 100000 inlined in its 5-byte value entry,
    // then an empty small object at offset 18.
    std::string binary = bytes({0x03, 0x02, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00,  // 2, 22
                                0x08, 0xa0, 0x86, 0x01, 0x00,  // uint32 100000, inlined
                                0x00, 0x12, 0x00, 0x00, 0x00,  // small object at 18
                                0x00, 0x00, 0x04, 0x00});
    EXPECT_EQ(json(binary), "[100000, {}]");
}

TEST(MysqlJson, ObjectKeysAreEscaped) {
    // Small object {"a\"b": null}: keys go through the same escaping as string values.
    std::string binary = bytes({0x00, 0x01, 0x00, 0x0e, 0x00,  // count 1, size 14
                                0x0b, 0x00, 0x03, 0x00,        // key at 11, length 3
                                0x04, 0x00, 0x00,              // null, inlined
                                'a', '"', 'b'});
    EXPECT_EQ(json(binary), "{\"a\\\"b\": null}");
}

TEST(MysqlJson, OpaqueTemporals) {
    // 0x0f, field type, size 8, MySQL's packed temporal int64 (little-endian): microseconds in
    // the low 24 bits, above them ((year*13+month)<<5|day)<<17 | hour<<12|minute<<6|second.
    // DATETIME (12) 2015-01-15 23:24:25.000006 = 0x19951f7619000006.
    EXPECT_EQ(json(bytes({0x0f, 0x0c, 0x08, 0x06, 0x00, 0x00, 0x19, 0x76, 0x1f, 0x95, 0x19})),
              "\"2015-01-15 23:24:25.000006\"");
    // DATE (10) 2015-01-15 = 0x19951e0000000000.
    EXPECT_EQ(json(bytes({0x0f, 0x0a, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x95, 0x19})),
              "\"2015-01-15\"");
    // TIMESTAMP (7) 1970-01-01 00:00:01 = 0x1902c20001000000.
    EXPECT_EQ(json(bytes({0x0f, 0x07, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0xc2, 0x02, 0x19})),
              "\"1970-01-01 00:00:01.000000\"");
    // TIME (11) packs hour<<12|minute<<6|second above the microseconds; negative is negated:
    // -12:34:56.5 = -0xc8b807a120.
    EXPECT_EQ(json(bytes({0x0f, 0x0b, 0x08, 0xe0, 0x5e, 0xf8, 0x47, 0x37, 0xff, 0xff, 0xff})),
              "\"-12:34:56.500000\"");
    // TIME 838:59:59 = 0x346efb000000.
    EXPECT_EQ(json(bytes({0x0f, 0x0b, 0x08, 0x00, 0x00, 0x00, 0xfb, 0x6e, 0x34, 0x00, 0x00})),
              "\"838:59:59.000000\"");
}

TEST(MysqlJson, OpaqueDecimals) {
    // NEWDECIMAL (246): precision, scale, then MySQL's binary DECIMAL: big-endian groups of
    // nine digits in 4 bytes, partial groups in 1..4 bytes, first bit flipped, negative values
    // bitwise inverted.
    // DECIMAL(5,2) 123.45: 3 integer digits in 2 bytes (0x007b), 2 fraction digits in 1 (0x2d).
    EXPECT_EQ(json(bytes({0x0f, 0xf6, 0x05, 0x05, 0x02, 0x80, 0x7b, 0x2d})), "123.45");
    EXPECT_EQ(json(bytes({0x0f, 0xf6, 0x05, 0x05, 0x02, 0x7f, 0x84, 0xd2})), "-123.45");
    // DECIMAL(20,10) 1234567890.0123456789: integer digits 1 | 234567890, fraction digits
    // 012345678 | 9.
    EXPECT_EQ(json(bytes({0x0f, 0xf6, 0x0c, 0x14, 0x0a, 0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x00, 0xbc,
                          0x61, 0x4e, 0x09})),
              "1234567890.0123456789");
    // DECIMAL(4,4) 0.5000: no integer digits, so "0" before the point; trailing zeros kept.
    EXPECT_EQ(json(bytes({0x0f, 0xf6, 0x04, 0x04, 0x04, 0x93, 0x88})), "0.5000");
    // DECIMAL(1,0) 0, and DECIMAL(3,0) 7 (leading zeros dropped).
    EXPECT_EQ(json(bytes({0x0f, 0xf6, 0x03, 0x01, 0x00, 0x80})), "0");
    EXPECT_EQ(json(bytes({0x0f, 0xf6, 0x04, 0x03, 0x00, 0x80, 0x07})), "7");
}

TEST(MysqlJson, OtherOpaqueValuesAreBase64) {
    // Opaque of any other field type: "base64:type<N>:<standard base64 of the data>".
    EXPECT_EQ(json(bytes({0x0f, 0x0f, 0x03, 'a', 'b', 'c'})), "\"base64:type15:YWJj\"");
    EXPECT_EQ(json(bytes({0x0f, 0xfc, 0x02, 'a', 'b'})), "\"base64:type252:YWI=\"");
    EXPECT_EQ(json(bytes({0x0f, 0x10, 0x01, 'a'})), "\"base64:type16:YQ==\"");
    EXPECT_EQ(json(bytes({0x0f, 0xfe, 0x00})), "\"base64:type254:\"");
}

TEST(MysqlJson, OpaqueInsideArray) {
    // Small array [DATE 2015-01-15]: the opaque value (field type, size, data; its 0x0f type is
    // in the value entry) lives at offset 7, after the header.
    std::string binary = bytes({0x02, 0x01, 0x00, 0x11, 0x00, 0x0f, 0x07, 0x00, 0x0a, 0x08, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x1e, 0x95, 0x19});
    EXPECT_EQ(json(binary), "[\"2015-01-15\"]");
}

TEST(MysqlJson, MalformedInput) {
    // Truncated scalars.
    expect_malformed(bytes({0x05, 0x01}), "needs 2 bytes");
    expect_malformed(bytes({0x09, 0x01, 0x02}), "needs 8 bytes");
    // Unknown value type and literal.
    expect_malformed(bytes({0x0d}), "unknown JSON value type 0x0d");
    expect_malformed(bytes({0x04, 0x03}), "unknown literal");
    // String longer than the data; size with more than five bytes.
    expect_malformed(bytes({0x0c, 0x05, 'a'}), "needs 5 bytes");
    expect_malformed(bytes({0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), "longer than 5 bytes");
    // Invalid UTF-8: a stray continuation byte, a truncated sequence, an encoded surrogate.
    expect_malformed(bytes({0x0c, 0x01, 0xff}), "invalid UTF-8");
    expect_malformed(bytes({0x0c, 0x02, 0xe2, 0x82}), "invalid UTF-8");
    expect_malformed(bytes({0x0c, 0x03, 0xed, 0xa0, 0x80}), "invalid UTF-8");
    // Container size beyond the buffer; element count that cannot fit the size.
    expect_malformed(bytes({0x02, 0x01, 0x00, 0x40, 0x00, 0x04, 0x01, 0x00}), "exceeds");
    expect_malformed(bytes({0x02, 0x05, 0x00, 0x07, 0x00, 0x04, 0x01, 0x00}), "do not fit");
    // Value offset pointing past the container.
    expect_malformed(bytes({0x02, 0x01, 0x00, 0x07, 0x00, 0x09, 0x20, 0x00}), "value offset");
    // Key extending past the container.
    expect_malformed(bytes({0x00, 0x01, 0x00, 0x0c, 0x00, 0x09, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00,
                            'a', 'b', 'c'}),
                     "needs 9 bytes");
    // NaN double.
    expect_malformed(bytes({0x0b, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}), "non-finite");
    // Temporal opaque of the wrong size; DECIMAL with the wrong byte count or bad digits.
    expect_malformed(bytes({0x0f, 0x0c, 0x02, 0x00, 0x00}), "expected 8");
    expect_malformed(bytes({0x0f, 0xf6, 0x03, 0x05, 0x02, 0x80}), "needs 3 bytes, got 1");
    expect_malformed(bytes({0x0f, 0xf6, 0x03, 0x01, 0x00, 0x8a}), "exceeds 1 digits");
    expect_malformed(bytes({0x0f, 0xf6, 0x02, 0x02, 0x03}), "bad DECIMAL");
}

TEST(MysqlJson, RejectsAbsurdNesting) {
    // 200 nested single-element small arrays, each pointing at the next at offset 7.
    const int depth = 200;
    std::string binary(1, '\x02');
    for (int i = 0; i < depth; ++i) {
        int size = 7 * (depth - i) + 4;  // this array and everything inside it
        binary += bytes({0x01, 0x00, size & 0xff, size >> 8, 0x02, 0x07, 0x00});
    }
    binary += bytes({0x00, 0x00, 0x04, 0x00});
    expect_malformed(binary, "nested deeper");
}

}  // namespace
}  // namespace rep::mysql
