#include "source/mysql/charsets.h"

#include "base/error.h"
#include "source/mysql/binlog_event.h"
#include "source/mysql/column_traits.h"
#include "source/mysql/row_values.h"

#include <gtest/gtest.h>

#include <string>

namespace rep::mysql {
namespace {

std::string convert(const Charsets& cs, uint32_t collation, const std::string& in) {
    std::string out;
    cs.to_utf8(collation, reinterpret_cast<const uint8_t*>(in.data()), in.size(), out);
    return out;
}

std::string error_of(const Charsets& cs, uint32_t collation, const std::string& in) {
    try {
        convert(cs, collation, in);
    } catch (const Error& e) {
        return e.what();
    }
    return "(converted)";
}

// A few characters of a double-byte set with EUC-JP's 3-byte form, as the server would
// answer for them: "A", a lone lead 0xA4 with one character, an unmapped 0xA4A1, and 0x8F
// 0xA2 0xAF.
CharTable small_table() {
    CharTable t;
    t.add("A", "A");
    t.add("?", "?");
    t.add("\x80", std::nullopt);        // a byte without a Unicode character
    t.add("\xA4\xA2", "\xE3\x81\x82");  // あ
    t.add("\xA4\xA1", std::nullopt);
    t.add("A\xA2", "A?");  // a character followed by another: not a sequence of its own
    t.add("\x8F\xA2\xAF", "\xCB\x98");  // ˘
    return t;
}

TEST(CharTable, SequencesOfOneToThreeBytesConvertLeftToRight) {
    CharTable t = small_table();
    std::string out;
    std::string in = "A\xA4\xA2?\x8F\xA2\xAF";
    EXPECT_EQ(t.to_utf8(reinterpret_cast<const uint8_t*>(in.data()), in.size(), out),
              std::string::npos);
    EXPECT_EQ(out, "A\xE3\x81\x82?\xCB\x98");
}

TEST(CharTable, TheFirstByteThatIsNoCharacterIsReported) {
    CharTable t = small_table();
    auto fail_at = [&](const std::string& in) {
        std::string out;
        return t.to_utf8(reinterpret_cast<const uint8_t*>(in.data()), in.size(), out);
    };
    EXPECT_EQ(fail_at("AA\x80"), 2u);     // no Unicode character
    EXPECT_EQ(fail_at("A\xA4\xA1"), 1u);  // a sequence without one
    EXPECT_EQ(fail_at("A\xA4"), 1u);      // cut short
    EXPECT_EQ(fail_at("\xA4\xA3"), 0u);   // not a sequence of the set
    EXPECT_EQ(fail_at("\x8F\xA2"), 0u);   // a 3-byte lead cut short
    EXPECT_EQ(fail_at("\xFF"), 0u);       // never seen
    EXPECT_EQ(fail_at("A\xA2"), 1u);      // 0xA2 alone is no character
}

TEST(Charsets, UnicodeEncodingsDecodeWholeCharactersOnly) {
    Charsets cs;
    cs.add_collation(35, "ucs2_general_ci", "ucs2", 2);
    cs.add_collation(54, "utf16_general_ci", "utf16", 4);
    cs.add_collation(56, "utf16le_general_ci", "utf16le", 4);
    cs.add_collation(60, "utf32_general_ci", "utf32", 4);
    EXPECT_EQ(convert(cs, 35, std::string("\x00\x41\x4E\x2D", 4)), "A\xE4\xB8\xAD");
    // U+1D11E (𝄞) as a surrogate pair, big- and little-endian; U+1F600 in UTF-32.
    EXPECT_EQ(convert(cs, 54, std::string("\xD8\x34\xDD\x1E\x00\x21", 6)), "\xF0\x9D\x84\x9E!");
    EXPECT_EQ(convert(cs, 56, std::string("\x34\xD8\x1E\xDD", 4)), "\xF0\x9D\x84\x9E");
    EXPECT_EQ(convert(cs, 60, std::string("\x00\x01\xF6\x00", 4)), "\xF0\x9F\x98\x80");
    EXPECT_NE(error_of(cs, 35, std::string("\xD8\x34\xDD\x1E", 4)).find("lone surrogate 0xd834"),
              std::string::npos);
    EXPECT_NE(error_of(cs, 54, std::string("\xDD\x1E\xD8\x34", 4))
                  .find("lone surrogate 0xdd1e at "
                        "byte 0"),
              std::string::npos);
    EXPECT_NE(error_of(cs, 54, std::string("\xD8\x34", 2)).find("lone surrogate"),
              std::string::npos);
    EXPECT_NE(error_of(cs, 54, std::string("\x00\x41\x00", 3)).find("3 bytes is not a whole"),
              std::string::npos);
    EXPECT_NE(error_of(cs, 60, std::string("\x00\x11\x00\x00", 4)).find("0x110000 at byte 0"),
              std::string::npos);
}

TEST(Charsets, Latin1IsMysqlsCp1252AndUtf8PassesAsItIs) {
    Charsets cs;  // ids known without a server
    EXPECT_EQ(convert(cs, 8, "caf\xE9 \x80\x81"), "caf\xC3\xA9 \xE2\x82\xAC\xC2\x81");
    EXPECT_EQ(convert(cs, 45, "\xE4\xB8\xAD"), "\xE4\xB8\xAD");
    EXPECT_EQ(convert(cs, 0, "as given"), "as given");  // no collation in the binary log
    EXPECT_NE(error_of(cs, 28, "x").find("collation id 28 is not one the source server lists"),
              std::string::npos);
}

TEST(Charsets, TablesAreLoadedOncePerSetAndOnlyForCollationsInUse) {
    Charsets cs;
    cs.add_collation(14, "cp1251_bulgarian_ci", "cp1251", 1);
    cs.add_collation(51, "cp1251_general_ci", "cp1251", 1);
    cs.add_collation(28, "gbk_chinese_ci", "gbk", 2);
    cs.add_collation(248, "gb18030_chinese_ci", "gb18030", 4);
    std::vector<std::string> loaded;
    cs.set_loader([&](const std::string& charset, int maxlen) {
        loaded.push_back(charset + "/" + std::to_string(maxlen));
        CharTable t;
        t.add("A", "A");
        t.add("\xCF", "\xD0\x9F");  // П
        return t;
    });
    TableMap map;
    map.database = "app";
    map.table = "t";
    for (uint32_t id : {14u, 51u, 248u, 0u}) {
        TableColumn c;
        c.name = "c" + std::to_string(id);
        c.collation = id;
        map.columns.push_back(c);
    }
    cs.prepare(map);
    cs.prepare(map);
    EXPECT_EQ(loaded, std::vector<std::string>{"cp1251/1"});
    EXPECT_EQ(convert(cs, 51, "A\xCF"), "A\xD0\x9F");
    EXPECT_NE(error_of(cs, 14, "A\x98")
                  .find("is not valid cp1251 text: byte 1 (0x98) does not "
                        "start a character the source server converts"),
              std::string::npos);
    // gbk was not prepared (no column of it): converting it is an error, not a guess.
    EXPECT_NE(error_of(cs, 28, "A").find("were not loaded"), std::string::npos);
    // gb18030 has 4-byte characters: ASCII converts, the rest stops.
    EXPECT_EQ(convert(cs, 248, "plain"), "plain");
    EXPECT_NE(error_of(cs, 248, "\x81\x30\x81\x30").find("only ASCII text is"), std::string::npos);
    // A collation the server did not list names table and column.
    map.columns[0].collation = 999;
    try {
        cs.prepare(map);
        ADD_FAILURE() << "prepared an unknown collation";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("table app.t column c14: collation id 999"),
                  std::string::npos)
            << e.what();
    }
    // Ids of 256 and more (MySQL 8's utf8mb4_0900_*, MariaDB's uca1400 ones) by hash.
    cs.add_collation(2048, "utf8mb4_uca1400_ai_ci", "utf8mb4", 4);
    EXPECT_EQ(convert(cs, 2048, "\xE4\xB8\xAD"), "\xE4\xB8\xAD");
    EXPECT_NE(error_of(cs, 300, "x").find("collation id 300 is not one"), std::string::npos);
    EXPECT_EQ(cs.id_of("gbk_chinese_ci"), 28u);
    EXPECT_EQ(cs.id_of("utf8mb4_uca1400_ai_ci"), 2048u);
    EXPECT_EQ(cs.id_of("utf8mb4_uca1400_as_cs"), std::nullopt);
}

// Through the value decoder: the error names table and column.
TEST(Charsets, ValuesThatDoNotConvertNameTheirColumn) {
    Charsets cs;
    cs.add_collation(35, "ucs2_general_ci", "ucs2", 2);
    TableMap m;
    m.database = "app";
    m.table = "t";
    TableColumn c;
    c.type = kVarchar;
    c.meta = 20;
    c.collation = 35;
    c.name = "title";
    m.columns.push_back(c);
    ValueOptions options;
    options.charsets = &cs;
    std::string in("\x03\x00\x41\x00", 4);  // length 3: half a code unit
    Datum d;
    try {
        decode_value(m, 0, options, reinterpret_cast<const uint8_t*>(in.data()), in.size(), d);
        ADD_FAILURE() << "decoded half a code unit";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("table app.t column title: is not valid ucs2 text: 3 "
                                             "bytes is not a whole number of 2-byte code units"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace rep::mysql
