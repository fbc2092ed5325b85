#include "source/mysql/row_values.h"

#include "base/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace rep::mysql {
namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) {
        s.push_back(static_cast<char>(c));
    }
    return s;
}

TableMap one_column(uint8_t type, uint16_t meta = 0, uint32_t collation = 0) {
    TableMap m;
    m.database = "app";
    m.table = "t";
    TableColumn c;
    c.type = type;
    c.meta = meta;
    c.collation = collation;
    c.name = "c";
    m.columns.push_back(c);
    return m;
}

// Decodes one value, checks that it used the whole input and that value_length agrees.
std::string render(const TableMap& m, const std::string& in, ValueOptions opts = {}) {
    Datum d;
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    size_t n = decode_value(m, 0, opts, p, in.size(), d);
    EXPECT_EQ(n, in.size());
    EXPECT_EQ(value_length(m.columns[0], p, in.size()), in.size());
    if (d.is_null()) {
        return "<null>";
    }
    EXPECT_FALSE(d.absent());
    return d.text;
}

std::string render(uint8_t type, uint16_t meta, const std::string& in) {
    return render(one_column(type, meta), in);
}

std::string error_of(const TableMap& m, const std::string& in, ValueOptions opts = {}) {
    Datum d;
    try {
        decode_value(m, 0, opts, reinterpret_cast<const uint8_t*>(in.data()), in.size(), d);
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        return e.what();
    }
    return "no error";
}

TEST(RowValues, Integers) {
    EXPECT_EQ(render(kTiny, 0, bytes({0xff})), "-1");
    EXPECT_EQ(render(kShort, 0, bytes({0x00, 0x80})), "-32768");
    EXPECT_EQ(render(kInt24, 0, bytes({0x00, 0x00, 0x80})), "-8388608");
    EXPECT_EQ(render(kInt24, 0, bytes({0xff, 0xff, 0x7f})), "8388607");
    EXPECT_EQ(render(kLong, 0, bytes({0x2a, 0, 0, 0})), "42");
    EXPECT_EQ(render(kLongLong, 0, std::string(8, '\xff')), "-1");
    auto m = one_column(kLongLong);
    m.columns[0].is_unsigned = true;
    EXPECT_EQ(render(m, std::string(8, '\xff')), "18446744073709551615");
    auto t = one_column(kTiny);
    t.columns[0].is_unsigned = true;
    EXPECT_EQ(render(t, bytes({0xff})), "255");
    auto mu = one_column(kInt24);
    mu.columns[0].is_unsigned = true;
    EXPECT_EQ(render(mu, bytes({0xff, 0xff, 0xff})), "16777215");
}

TEST(RowValues, Decimal) {
    // MySQL's decimal2bin example: DECIMAL(14,4) 1234567890.1234 -> 81 0D FB 38 D2 04 D2:
    // 1 leading digit in 1 byte, one 9-digit group in 4 bytes, 4 fraction digits in 2 bytes,
    // sign bit flipped; negative values have every byte inverted.
    uint16_t m14_4 = (14 << 8) | 4;
    EXPECT_EQ(render(kNewDecimal, m14_4, bytes({0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2})),
              "1234567890.1234");
    EXPECT_EQ(render(kNewDecimal, m14_4, bytes({0x7e, 0xf2, 0x04, 0xc7, 0x2d, 0xfb, 0x2d})),
              "-1234567890.1234");
    EXPECT_EQ(render(kNewDecimal, (5 << 8) | 0, bytes({0x80, 0x30, 0x39})), "12345");
    EXPECT_EQ(render(kNewDecimal, (4 << 8) | 2, bytes({0x80, 0x05})), "0.05");
    EXPECT_EQ(render(kNewDecimal, (4 << 8) | 2, bytes({0x7f, 0xfa})), "-0.05");
    EXPECT_EQ(render(kNewDecimal, (4 << 8) | 2, bytes({0x80, 0x00})), "0.00");
    // DECIMAL(18,9): one full group each side; 0.000000001.
    EXPECT_EQ(render(kNewDecimal, (18 << 8) | 9, bytes({0x80, 0, 0, 0, 0, 0, 0, 1})),
              "0.000000001");
    // DECIMAL(65,30): 35 integer digits (8 + 3 groups), 30 fraction digits (3 groups + 3).
    std::string big(4 + 12 + 12 + 2, '\0');
    big[0] = static_cast<char>(0x80);
    big[3] = 7;
    EXPECT_EQ(render(kNewDecimal, (65 << 8) | 30, big),
              "7000000000000000000000000000.000000000000000000000000000000");
    EXPECT_NE(error_of(one_column(kNewDecimal, 0), std::string(4, '\0')), "no error");
}

TEST(RowValues, FloatAndDouble) {
    auto f = [](float v) {
        std::string s(4, '\0');
        std::memcpy(s.data(), &v, 4);
        return s;
    };
    auto d = [](double v) {
        std::string s(8, '\0');
        std::memcpy(s.data(), &v, 8);
        return s;
    };
    EXPECT_EQ(render(kFloat, 4, f(0.1f)), "0.1");
    EXPECT_EQ(render(kFloat, 4, f(-3.4028235e38f)), "-3.4028235e+38");
    EXPECT_EQ(render(kFloat, 4, f(std::numeric_limits<float>::quiet_NaN())), "NaN");
    EXPECT_EQ(render(kDouble, 8, d(0.1)), "0.1");
    EXPECT_EQ(render(kDouble, 8, d(1.0 / 3)), "0.3333333333333333");
    EXPECT_EQ(render(kDouble, 8, d(std::numeric_limits<double>::infinity())), "Infinity");
    EXPECT_EQ(render(kDouble, 8, d(-std::numeric_limits<double>::infinity())), "-Infinity");
    EXPECT_EQ(render(kDouble, 8, d(5e-324)), "5e-324");
}

TEST(RowValues, BitAndYear) {
    // BIT metadata: whole bytes << 8 | leftover bits; value big-endian.
    EXPECT_EQ(render(kBit, 1, bytes({0x01})), "1");
    EXPECT_EQ(render(kBit, 5, bytes({0x12})), "10010");
    EXPECT_EQ(render(kBit, (1 << 8) | 2, bytes({0x02, 0x01})), "1000000001");
    EXPECT_EQ(render(kBit, 8 << 8, bytes({0x80, 0, 0, 0, 0, 0, 0, 0x01})),
              "1000000000000000000000000000000000000000000000000000000000000001");
    EXPECT_EQ(render(kYear, 0, bytes({0})), "0");
    EXPECT_EQ(render(kYear, 0, bytes({1})), "1901");
    EXPECT_EQ(render(kYear, 0, bytes({255})), "2155");
}

TEST(RowValues, OldTemporalFormats) {
    // DATE/NEWDATE: 3 bytes LE, day 5 bits | month 4 bits | year.
    EXPECT_EQ(render(kDate, 0, bytes({0x5d, 0xd0, 0x0f})), "2024-02-29");
    EXPECT_EQ(render(kNewDate, 0, bytes({0x5d, 0xd0, 0x0f})), "2024-02-29");
    // TIME: 3 bytes LE signed HHMMSS.
    EXPECT_EQ(render(kTime, 0, bytes({0x59, 0x0a, 0x80})), "-838:59:59");
    EXPECT_EQ(render(kTime, 0, bytes({0x00, 0x00, 0x00})), "00:00:00");
    // DATETIME: 8 bytes LE YYYYMMDDhhmmss.
    EXPECT_EQ(render(kDateTime, 0, bytes({0x97, 0xe4, 0xaa, 0x8b, 0x68, 0x12, 0, 0})),
              "2024-02-29 13:14:15");
    // TIMESTAMP: 4 bytes LE seconds since the epoch, rendered in UTC.
    EXPECT_EQ(render(kTimestamp, 0, bytes({0x25, 0x7d, 0x93, 0x65})), "2024-01-02 03:04:05+00");
    EXPECT_EQ(render(kTimestamp, 0, bytes({0, 0, 0, 0})), "<null>");
}

TEST(RowValues, DateTime2) {
    // 5 bytes BE: 1 sign bit (set), 17 bits year*13+month, 5 bits day, 5 hour, 6 minute,
    // 6 second; then the fraction: fsp 1-2 one byte, 3-4 two bytes, 5-6 three bytes.
    EXPECT_EQ(render(kDateTime2, 0, bytes({0x99, 0xb2, 0xba, 0xd3, 0x8f})), "2024-02-29 13:14:15");
    EXPECT_EQ(render(kDateTime2, 2, bytes({0x99, 0xb2, 0xba, 0xd3, 0x8f, 0x0c})),
              "2024-02-29 13:14:15.12");
    EXPECT_EQ(render(kDateTime2, 4, bytes({0x99, 0x63, 0xff, 0x7e, 0xfb, 0x04, 0xd2})),
              "1999-12-31 23:59:59.1234");
    EXPECT_EQ(render(kDateTime2, 0, bytes({0x80, 0, 0, 0, 0})), "<null>");
}

TEST(RowValues, Time2) {
    // 3 bytes BE with offset 0x800000 (1 sign bit, 1 unused, 10 hour, 6 minute, 6 second),
    // then the fraction; negative values store the fraction complemented (my_time_packed_*).
    EXPECT_EQ(render(kTime2, 0, bytes({0x80, 0xc8, 0xb8})), "12:34:56");
    EXPECT_EQ(render(kTime2, 0, bytes({0x7f, 0xff, 0xfb})), "-00:00:05");
    EXPECT_EQ(render(kTime2, 2, bytes({0x7f, 0xff, 0xff, 0xff})), "-00:00:00.01");
    EXPECT_EQ(render(kTime2, 2, bytes({0x7f, 0xef, 0xff, 0xce})), "-01:00:00.50");
    EXPECT_EQ(render(kTime2, 4, bytes({0x4b, 0x91, 0x04, 0xd8, 0xf1})), "-838:59:59.9999");
    EXPECT_EQ(render(kTime2, 3, bytes({0x80, 0x00, 0x01, 0x13, 0x88})), "00:00:01.500");
    EXPECT_EQ(render(kTime2, 6, bytes({0x7f, 0xff, 0xff, 0xff, 0xff, 0xff})), "-00:00:00.000001");
}

TEST(RowValues, Timestamp2) {
    // 4 bytes BE seconds since the epoch, then the fraction as for DATETIME2.
    EXPECT_EQ(render(kTimestamp2, 0, bytes({0x65, 0x93, 0x7d, 0x25})), "2024-01-02 03:04:05+00");
    EXPECT_EQ(render(kTimestamp2, 2, bytes({0x65, 0x93, 0x7d, 0x25, 0x0c})),
              "2024-01-02 03:04:05.12+00");
    EXPECT_EQ(render(kTimestamp2, 4, bytes({0x65, 0x93, 0x7d, 0x25, 0x04, 0xd2})),
              "2024-01-02 03:04:05.1234+00");
    EXPECT_EQ(render(kTimestamp2, 1, bytes({0x00, 0x00, 0x00, 0x01, 0x32})),
              "1970-01-01 00:00:01.5+00");
    EXPECT_EQ(render(kTimestamp2, 0, bytes({0, 0, 0, 0})), "<null>");
}

TEST(RowValues, ZeroDateOption) {
    ValueOptions strict;
    strict.zero_date = ValueOptions::ZeroDate::kError;
    auto m = one_column(kDate);
    EXPECT_EQ(render(m, bytes({0, 0, 0})), "<null>");
    // 2024-00-15 (partly zero) is a zero date too.
    EXPECT_EQ(render(m, bytes({0x0f, 0xd0, 0x0f})), "<null>");
    std::string err = error_of(m, bytes({0, 0, 0}), strict);
    EXPECT_EQ(err.rfind("table app.t column c: zero date", 0), 0u) << err;
    EXPECT_NE(error_of(one_column(kDateTime2), bytes({0x80, 0, 0, 0, 0}), strict), "no error");
    EXPECT_NE(error_of(one_column(kTimestamp2), bytes({0, 0, 0, 0}), strict), "no error");
    EXPECT_EQ(error_of(one_column(kDate), bytes({0x5d, 0xd0, 0x0f}), strict), "no error");
}

TEST(RowValues, Strings) {
    constexpr uint32_t kUtf8mb4 = 45;
    EXPECT_EQ(render(one_column(kVarchar, 10, kUtf8mb4), bytes({2, 'h', 'i'})), "hi");
    // VARCHAR whose maximum byte length exceeds 255: 2 length bytes.
    std::string long_value(300, 'x');
    std::string in = bytes({0x2c, 0x01}) + long_value;
    EXPECT_EQ(render(one_column(kVarchar, 1200, kUtf8mb4), in), long_value);
    // BLOB/TEXT: 1-4 length bytes per metadata.
    EXPECT_EQ(render(one_column(kBlob, 1, kUtf8mb4), bytes({1, 'a'})), "a");
    EXPECT_EQ(render(one_column(kBlob, 3, kUtf8mb4), bytes({2, 0, 0, 'a', 'b'})), "ab");
    EXPECT_EQ(render(one_column(kBlob, 4, kUtf8mb4), bytes({0, 0, 0, 0})), "");
    // Binary collation: bytea hex of every byte.
    EXPECT_EQ(render(one_column(kBlob, 2, 63), bytes({3, 0, 0x00, 0xff, 0x80})), "\\x00ff80");
    EXPECT_EQ(render(one_column(kVarchar, 10, 63), bytes({0})), "\\x");
}

TEST(RowValues, Latin1IsCp1252) {
    // All of 0x80-0x9F, MySQL's latin1 (cp1252 with 81, 8D, 8F, 90, 9D kept as C1 controls).
    std::string in;
    for (int b = 0x80; b <= 0x9f; ++b) {
        in.push_back(static_cast<char>(b));
    }
    in += "\xe9\xff\x41";
    std::string want =
        "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d"
        "\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a"
        "\u0153\u009d\u017e\u0178\u00e9\u00ffA";
    for (uint32_t coll : {5u, 8u, 15u, 31u, 47u, 48u, 49u, 94u}) {
        EXPECT_EQ(render(one_column(kBlob, 1, coll), static_cast<char>(in.size()) + in), want)
            << coll;
    }
}

TEST(RowValues, CharFoldedLength) {
    // TABLE_MAP of (c CHAR(100) utf8mb4, l CHAR(5) latin1): a CHAR's metadata is
    // real_type ^ ((length & 0x300) >> 4), length & 0xff, so 400 bytes -> 0xee 0x90.
    std::string body;
    body += bytes({7, 0, 0, 0, 0, 0, 0, 0});  // table id 7, flags 0
    body += bytes({3, 'a', 'p', 'p', 0, 1, 't', 0, 2, kString, kString});
    body += bytes({4, 0xee, 0x90, 0xfe, 0x05});  // metadata
    body += bytes({0x03});                       // nullable
    body += bytes({3, 2, 45, 8});                // COLUMN_CHARSET: 45, 8
    TableMap m = parse_table_map(body);
    EXPECT_EQ(m.table_id, 7u);
    EXPECT_FALSE(m.has_names);
    EXPECT_EQ(m.columns[0].real_type, kString);
    EXPECT_EQ(m.columns[0].meta, 400);
    EXPECT_EQ(m.columns[0].collation, 45u);
    EXPECT_EQ(m.columns[1].meta, 5);
    EXPECT_EQ(m.columns[1].collation, 8u);
    // Over 255 bytes: 2 length bytes.
    Datum d;
    std::string v = bytes({3, 0, 'a', 'b', 'c'});
    EXPECT_EQ(decode_value(m, 0, {}, reinterpret_cast<const uint8_t*>(v.data()), v.size(), d), 5u);
    EXPECT_EQ(d.text, "abc");
    std::string l = bytes({2, 0xe9, 0x80});
    EXPECT_EQ(decode_value(m, 1, {}, reinterpret_cast<const uint8_t*>(l.data()), l.size(), d), 3u);
    EXPECT_EQ(d.text, "\u00e9\u20ac");
}

TEST(RowValues, EnumAndSet) {
    auto e = one_column(kString, 2, 45);
    e.columns[0].real_type = kEnum;
    for (int i = 0; i < 300; ++i) {
        e.columns[0].enum_values.push_back("v" + std::to_string(i + 1));
    }
    EXPECT_EQ(render(e, bytes({0x2c, 0x01})), "v300");
    EXPECT_EQ(render(e, bytes({0x00, 0x00})), "");  // the invalid-value index
    EXPECT_NE(error_of(e, bytes({0x2d, 0x01})).find("ENUM index 301"), std::string::npos);

    auto latin = one_column(kString, 1, 8);
    latin.columns[0].real_type = kEnum;
    latin.columns[0].enum_values = {"caf\xe9"};
    EXPECT_EQ(render(latin, bytes({1})), "caf\u00e9");

    auto s = one_column(kString, 8, 45);
    s.columns[0].real_type = kSet;
    for (int i = 0; i < 64; ++i) {
        s.columns[0].set_values.push_back("m" + std::to_string(i));
    }
    EXPECT_EQ(render(s, bytes({0x05, 0, 0, 0, 0, 0, 0, 0x80})), "m0,m2,m63");
    EXPECT_EQ(render(s, std::string(8, '\0')), "");

    auto unknown = one_column(kString, 1, 45);
    unknown.columns[0].real_type = kSet;
    EXPECT_NE(error_of(unknown, bytes({1})).find("SET members unknown"), std::string::npos);
}

TEST(RowValues, JsonColumn) {
    // MySQL JSON (type 245): length bytes per metadata, then binary JSON (json_binary.h);
    // 0x04 0x01 is the literal true.
    EXPECT_EQ(render(one_column(kJson, 4), bytes({2, 0, 0, 0, 0x04, 0x01})), "true");
    std::string err = error_of(one_column(kJson, 4), bytes({1, 0, 0, 0, 0x7f}));
    EXPECT_EQ(err.rfind("table app.t column c: ", 0), 0u) << err;
}

TEST(RowValues, ErrorsNameTableAndColumn) {
    std::string err = error_of(one_column(kLongLong), bytes({1, 2, 3}));
    EXPECT_EQ(err.rfind("table app.t column c: ", 0), 0u) << err;
    err = error_of(one_column(kVarchar, 10, 45), bytes({9, 'a'}));
    EXPECT_EQ(err.rfind("table app.t column c: ", 0), 0u) << err;
    auto unnamed = one_column(kDecimal);
    unnamed.columns[0].name.clear();
    err = error_of(unnamed, bytes({1}));
    EXPECT_EQ(err.rfind("table app.t column #1: ", 0), 0u) << err;
}

// TABLE_MAP with every optional metadata field (MySQL 8.0, binlog_row_metadata=FULL):
//   CREATE TABLE db.tm (a TINYINT UNSIGNED, y YEAR, b BIT(3), e ENUM('x','y'), d DECIMAL(5,2),
//                       s SET('p','q'), v VARCHAR(4) CHARACTER SET latin1, g GEOMETRY,
//                       bl BLOB, k INT, PRIMARY KEY (k, v(2)));
TEST(RowValues, ParseTableMapOptionalMetadata) {
    std::string b;
    b += bytes({0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x01, 0x00});  // table id, flags
    b += bytes({2, 'd', 'b', 0, 2, 't', 'm', 0});
    b += bytes(
        {10, kTiny, kYear, kBit, kString, kNewDecimal, kString, kVarchar, kGeometry, kBlob, kLong});
    // metadata: BIT 2 bytes (3 bits, 0 bytes), ENUM 0xf7 0x01, DECIMAL 5,2, SET 0xf8 0x01,
    // VARCHAR 4 (2 bytes LE), GEOMETRY 4, BLOB 2.
    b += bytes({12, 3, 0, 0xf7, 1, 5, 2, 0xf8, 1, 4, 0, 4, 2});
    b += bytes({0xff, 0x01});  // nullable: a..bl (bits 0-8); k (bit 9) NOT NULL
    // 1 SIGNEDNESS over numeric columns a, d, k (YEAR and BIT are not numeric): a unsigned.
    b += bytes({1, 1, 0x80});
    // 3 COLUMN_CHARSET over character columns v, bl (ENUM/SET excluded).
    b += bytes({3, 2, 8, 63});
    // 4 COLUMN_NAME
    b += bytes({4, 21,  1, 'a', 1, 'y', 1, 'b', 1,   'e', 1,  'd',
                1, 's', 1, 'v', 1, 'g', 2, 'b', 'l', 1,   'k'});
    // 5 SET_STR_VALUE: one SET with 2 values; 6 ENUM_STR_VALUE: one ENUM with 2 values.
    b += bytes({5, 5, 2, 1, 'p', 1, 'q'});
    b += bytes({6, 5, 2, 1, 'x', 1, 'y'});
    // 7 GEOMETRY_TYPE (ignored)
    b += bytes({7, 1, 0});
    // 9 PRIMARY_KEY_WITH_PREFIX: (9, 0), (6, 2)
    b += bytes({9, 4, 9, 0, 6, 2});
    // 10 ENUM_AND_SET_DEFAULT_CHARSET: default 33, enum/set column 1 (s) -> 8
    b += bytes({10, 3, 33, 1, 8});
    // 12 COLUMN_VISIBILITY; and an unknown field type 99, skipped.
    b += bytes({12, 2, 0xff, 0xc0});
    b += bytes({99, 2, 0xaa, 0xbb});
    TableMap m = parse_table_map(b);
    EXPECT_EQ(m.table_id, 0x605040302010u);
    EXPECT_EQ(m.database, "db");
    EXPECT_EQ(m.table, "tm");
    ASSERT_EQ(m.columns.size(), 10u);
    EXPECT_TRUE(m.has_names);
    EXPECT_EQ(m.columns[9].name, "k");
    EXPECT_EQ(m.columns[8].name, "bl");
    EXPECT_TRUE(m.columns[0].is_unsigned);
    EXPECT_FALSE(m.columns[4].is_unsigned);
    EXPECT_FALSE(m.columns[9].is_unsigned);
    EXPECT_EQ(m.columns[2].meta, 3);
    EXPECT_EQ(m.columns[3].real_type, kEnum);
    EXPECT_EQ(m.columns[3].meta, 1);
    EXPECT_EQ(m.columns[3].enum_values, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(m.columns[4].meta, (5 << 8) | 2);
    EXPECT_EQ(m.columns[5].real_type, kSet);
    EXPECT_EQ(m.columns[5].set_values, (std::vector<std::string>{"p", "q"}));
    EXPECT_EQ(m.columns[6].meta, 4);
    EXPECT_EQ(m.columns[6].collation, 8u);
    EXPECT_EQ(m.columns[8].collation, 63u);
    EXPECT_EQ(m.columns[3].collation, 33u);
    EXPECT_EQ(m.columns[5].collation, 8u);
    EXPECT_TRUE(m.columns[9].is_key);
    EXPECT_TRUE(m.columns[6].is_key);
    EXPECT_FALSE(m.columns[0].is_key);
    EXPECT_FALSE(m.columns[9].nullable);
    EXPECT_TRUE(m.columns[8].nullable);

    // Malformed: truncated anywhere is an error, never a crash.
    for (size_t n = 0; n < 40; ++n) {
        EXPECT_THROW(parse_table_map(b.substr(0, n)), Error) << n;
    }
    // A primary key index out of range.
    std::string bad = b;
    bad += bytes({8, 1, 10});
    EXPECT_THROW(parse_table_map(bad), Error);
}

TEST(RowValues, ValueLengthNeedsNoRendering) {
    TableColumn c;
    c.type = kNewDecimal;
    c.meta = (30 << 8) | 10;
    EXPECT_EQ(value_length(c, nullptr, 0), 14u);  // 2 digits + 2 groups | 1 group + 1 digit
    c.type = kDateTime2;
    c.meta = 6;
    EXPECT_EQ(value_length(c, nullptr, 0), 8u);
    c.type = kTime2;
    c.meta = 1;
    EXPECT_EQ(value_length(c, nullptr, 0), 4u);
    c.type = kTimestamp2;
    c.meta = 3;
    EXPECT_EQ(value_length(c, nullptr, 0), 6u);
    c.type = kBit;
    c.meta = (1 << 8) | 2;
    EXPECT_EQ(value_length(c, nullptr, 0), 2u);
    c.type = kVarchar;
    c.meta = 300;
    std::string v = bytes({5, 0});
    EXPECT_EQ(value_length(c, reinterpret_cast<const uint8_t*>(v.data()), v.size()), 7u);
}

}  // namespace
}  // namespace rep::mysql
