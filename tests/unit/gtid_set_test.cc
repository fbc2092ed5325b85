#include "source/mysql/gtid_set.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace rep::mysql {
namespace {

constexpr char kA[] = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr char kB[] = "4c658ae6-e8ad-11ef-8449-0242ac140006";

MysqlGtidSet set(std::string_view text) {
    auto s = MysqlGtidSet::parse(text);
    EXPECT_TRUE(s.has_value()) << text;
    return s.value_or(MysqlGtidSet{});
}

std::string canon(std::string_view text) {
    return set(text).str();
}

MysqlGtidSet::Uuid uuid(std::string_view text) {
    auto u = MysqlGtidSet::parse_uuid(text);
    EXPECT_TRUE(u.has_value()) << text;
    return u.value_or(MysqlGtidSet::Uuid{});
}

std::string le64(uint64_t v) {
    std::string s;
    for (int i = 0; i < 8; ++i) {
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    return s;
}

TEST(MysqlGtidSet, UuidRoundTrip) {
    auto u = uuid("3E11FA47-71CA-11E1-9E33-C80AA9429562");
    EXPECT_EQ(u[0], 0x3e);
    EXPECT_EQ(u[15], 0x62);
    EXPECT_EQ(MysqlGtidSet::uuid_str(u), kA);
    // MySQL also accepts the 32 digits without dashes.
    EXPECT_EQ(MysqlGtidSet::uuid_str(uuid("3e11fa4771ca11e19e33c80aa9429562")), kA);
    EXPECT_FALSE(MysqlGtidSet::parse_uuid("3e11fa47-71ca-11e1-9e33-c80aa942956"));
    EXPECT_FALSE(MysqlGtidSet::parse_uuid("3e11fa47-71ca-11e1-9e33-c80aa942956g"));
    EXPECT_FALSE(MysqlGtidSet::parse_uuid("3e11fa4771ca-11e1-9e33-c80aa9429562-"));
    EXPECT_FALSE(MysqlGtidSet::parse_uuid(""));
}

TEST(MysqlGtidSet, ParsesMysqlDocsExamples) {
    // From the MySQL manual (GTID sets): two specs for one UUID merge into 1-18.
    EXPECT_EQ(canon("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11-18, "
                    "3E11FA47-71CA-11E1-9E33-C80AA9429562:6-10"),
              std::string(kA) + ":1-18");
    EXPECT_EQ(canon("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"), std::string(kA) + ":1-5");
    EXPECT_EQ(canon("3E11FA47-71CA-11E1-9E33-C80AA9429562:23"), std::string(kA) + ":23");
    EXPECT_EQ(canon("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-3:11:47-49"),
              std::string(kA) + ":1-3:11:47-49");
    // SHOW BINARY LOG STATUS output: newline after the comma, UUIDs sorted on output.
    EXPECT_EQ(canon("d2ad8e8b-ba5c-11e8-9a14-080027d1b4fd:1-3,\n"
                    "2174b383-5441-11e8-b90a-c80aa9429562:1-19"),
              "2174b383-5441-11e8-b90a-c80aa9429562:1-19,d2ad8e8b-ba5c-11e8-9a14-080027d1b4fd:1-3");
}

TEST(MysqlGtidSet, Canonicalizes) {
    EXPECT_EQ(canon(""), "");
    EXPECT_TRUE(set("").empty());
    EXPECT_TRUE(set("  \n ").empty());
    // Adjacent and overlapping intervals merge; out-of-order intervals sort.
    EXPECT_EQ(canon(std::string(kA) + ":1-3:4-6"), std::string(kA) + ":1-6");
    EXPECT_EQ(canon(std::string(kA) + ":9:5:1-3:4"), std::string(kA) + ":1-5:9");
    EXPECT_EQ(canon(std::string(kA) + ":1-10:3-4"), std::string(kA) + ":1-10");
    EXPECT_EQ(canon(std::string(kA) + ":7-7"), std::string(kA) + ":7");
    // Whitespace around tokens, empty specs between commas, a UUID without intervals.
    EXPECT_EQ(canon(std::string(",") + kB + " : 3 - 4 ,, " + kA + ":1 ,"),
              std::string(kA) + ":1," + kB + ":3-4");
    EXPECT_EQ(canon(kA), "");
    // The largest transaction number MySQL allows.
    EXPECT_EQ(canon(std::string(kA) + ":9223372036854775806"),
              std::string(kA) + ":9223372036854775806");
}

TEST(MysqlGtidSet, RejectsMalformedText) {
    const std::string a = kA;
    for (const std::string& bad : std::initializer_list<std::string>{
             "nope",
             a + ":0",                    // zero transaction number
             a + ":0-3",                  // zero start
             a + ":5-3",                  // reversed interval
             a + ":",                     // missing interval
             a + ":1:",                   // trailing colon
             a + ":1-",                   // open interval
             a + ":-3",                   // missing start
             a + ":a",                    // junk interval
             a + ":1-2x",                 // trailing junk
             a + ":+1",                   // sign
             a + ":9223372036854775807",  // beyond MySQL's maximum
             a + ":99999999999999999999999",
             "3e11fa47-71ca-11e1-9e33-c80aa942956:1",   // short UUID
             "3e11fa47-71ca-11e1-9e33-c80aa942956z:1",  // non-hex
             // The MySQL manual's own typo: a 7-digit first group.
             "24DA167-0C0C-11E8-8442-00059A3C7B00:1-19",
             a + ":1 " + kB + ":1",  // missing comma
             // MariaDB syntax is not a MySQL set.
             "0-1-5",
         }) {
        EXPECT_FALSE(MysqlGtidSet::parse(bad).has_value()) << bad;
    }
}

TEST(MysqlGtidSet, AddSingleTransactions) {
    MysqlGtidSet s;
    auto a = uuid(kA);
    auto b = uuid(kB);
    s.add(b, 2);
    s.add(a, 5);
    s.add(a, 3);
    EXPECT_EQ(s.str(), std::string(kA) + ":3:5," + kB + ":2");
    s.add(a, 4);  // bridges 3 and 5
    EXPECT_EQ(s.str(), std::string(kA) + ":3-5," + kB + ":2");
    s.add(a, 4);  // already there
    s.add(a, 6);
    s.add(a, 1);
    EXPECT_EQ(s.str(), std::string(kA) + ":1:3-6," + kB + ":2");
}

TEST(MysqlGtidSet, Union) {
    auto s = set(std::string(kA) + ":1-5:20-30");
    s.add(set(std::string(kA) + ":6-10:15:25-40," + kB + ":1"));
    EXPECT_EQ(s.str(), std::string(kA) + ":1-10:15:20-40," + kB + ":1");
    s.add(MysqlGtidSet{});
    EXPECT_EQ(s.str(), std::string(kA) + ":1-10:15:20-40," + kB + ":1");
    // One interval swallowing several.
    s.add(set(std::string(kA) + ":1-100"));
    EXPECT_EQ(s.str(), std::string(kA) + ":1-100," + kB + ":1");
}

TEST(MysqlGtidSet, ContainsTransaction) {
    auto s = set(std::string(kA) + ":1-5:7");
    auto a = uuid(kA);
    EXPECT_TRUE(s.contains(a, 1));
    EXPECT_TRUE(s.contains(a, 5));
    EXPECT_FALSE(s.contains(a, 6));
    EXPECT_TRUE(s.contains(a, 7));
    EXPECT_FALSE(s.contains(a, 8));
    EXPECT_FALSE(s.contains(uuid(kB), 1));
}

TEST(MysqlGtidSet, Subset) {
    auto s = set(std::string(kA) + ":1-5:7-9," + kB + ":1-3");
    EXPECT_TRUE(s.contains(MysqlGtidSet{}));
    EXPECT_TRUE(s.contains(s));
    EXPECT_TRUE(s.contains(set(std::string(kA) + ":2-4:8")));
    EXPECT_TRUE(s.contains(set(std::string(kB) + ":3")));
    EXPECT_FALSE(s.contains(set(std::string(kA) + ":5-7")));  // spans the gap at 6
    EXPECT_FALSE(s.contains(set(std::string(kA) + ":10")));
    EXPECT_FALSE(s.contains(set("00000000-0000-0000-0000-000000000001:1")));
    EXPECT_FALSE(MysqlGtidSet{}.contains(s));
}

TEST(MysqlGtidSet, EqualityIsCanonical) {
    EXPECT_EQ(set(std::string(kA) + ":1-3:4"),
              set(std::string("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-4")));
    EXPECT_FALSE(set(std::string(kA) + ":1-3") == set(std::string(kA) + ":1-4"));
}

TEST(MysqlGtidSet, EncodeIsByteExact) {
    // Gtid_set::encode layout: int64 n_sids, then per SID 16 UUID bytes, int64 n_intervals and
    // [start, end) int64 pairs, little-endian, end exclusive. Spelled out byte by byte.
    auto s = set(std::string(kA) + ":1-5:7");
    std::string expected(
        "\x01\x00\x00\x00\x00\x00\x00\x00"                                  // one SID
        "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62"  // its UUID
        "\x02\x00\x00\x00\x00\x00\x00\x00"                                  // two intervals
        "\x01\x00\x00\x00\x00\x00\x00\x00"                                  // [1,
        "\x06\x00\x00\x00\x00\x00\x00\x00"                                  //  6)
        "\x07\x00\x00\x00\x00\x00\x00\x00"                                  // [7,
        "\x08\x00\x00\x00\x00\x00\x00\x00",                                 //  8)
        8 + 16 + 8 + 4 * 8);
    EXPECT_EQ(s.encode(), expected);

    // Two SIDs come out in UUID order.
    auto two = set(std::string(kB) + ":1-3," + kA + ":10");
    std::string want = le64(2);
    want += std::string("\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62", 16);
    want += le64(1) + le64(10) + le64(11);
    want += std::string("\x4c\x65\x8a\xe6\xe8\xad\x11\xef\x84\x49\x02\x42\xac\x14\x00\x06", 16);
    want += le64(1) + le64(1) + le64(4);
    EXPECT_EQ(two.encode(), want);

    // The empty set is just a zero SID count.
    EXPECT_EQ(MysqlGtidSet{}.encode(), le64(0));
}

TEST(MysqlGtidSet, DecodeRoundTrip) {
    for (const std::string& text :
         {std::string(), std::string(kA) + ":1-5:7", std::string(kA) + ":1-18," + kB + ":3:5-9",
          std::string(kA) + ":9223372036854775806"}) {
        auto s = set(text);
        auto d = MysqlGtidSet::decode(s.encode());
        ASSERT_TRUE(d.has_value()) << text;
        EXPECT_EQ(d->str(), s.str());
    }
}

TEST(MysqlGtidSet, DecodeRejectsMalformed) {
    std::string good = set(std::string(kA) + ":1-5").encode();
    EXPECT_TRUE(MysqlGtidSet::decode(good));
    EXPECT_FALSE(MysqlGtidSet::decode(""));
    EXPECT_FALSE(MysqlGtidSet::decode(good.substr(0, good.size() - 1)));  // truncated
    EXPECT_FALSE(MysqlGtidSet::decode(good + '\0'));                      // trailing byte
    EXPECT_FALSE(MysqlGtidSet::decode(le64(1000000) + good.substr(8)));   // absurd SID count
    std::string uuid16 = good.substr(8, 16);
    // Zero start, empty interval, end beyond INT64_MAX.
    EXPECT_FALSE(MysqlGtidSet::decode(le64(1) + uuid16 + le64(1) + le64(0) + le64(3)));
    EXPECT_FALSE(MysqlGtidSet::decode(le64(1) + uuid16 + le64(1) + le64(4) + le64(4)));
    EXPECT_FALSE(MysqlGtidSet::decode(le64(1) + uuid16 + le64(1) + le64(1) + le64(~0ULL)));
    // Interval count beyond the data.
    EXPECT_FALSE(MysqlGtidSet::decode(le64(1) + uuid16 + le64(2) + le64(1) + le64(2)));
}

TEST(MariadbGtidList, ParseAndFormat) {
    auto l = MariadbGtidList::parse("0-1-5,5-1-1");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->str(), "0-1-5,5-1-1");
    ASSERT_EQ(l->domains().size(), 2u);
    EXPECT_EQ(l->domains().at(5).server, 1u);
    EXPECT_EQ(l->domains().at(0).seq, 5u);
    // Sorted by domain, whitespace tolerated, full 32/64-bit ranges.
    auto m = MariadbGtidList::parse(" 5-1-1 ,\n0-4294967295-18446744073709551615");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->str(), "0-4294967295-18446744073709551615,5-1-1");
    auto e = MariadbGtidList::parse("");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->empty());
    EXPECT_EQ(e->str(), "");
}

TEST(MariadbGtidList, RejectsMalformed) {
    for (const char* bad : {"0-1", "0-1-5-6", "a-1-5", "0-1-", "-1-1-1", "0-1-5,", "0--5",
                            "4294967296-1-1", "0-4294967296-1", "0-1-18446744073709551616",
                            "0-1-5,0-2-6",  // two positions for one domain
                            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "0-1-+5"}) {
        EXPECT_FALSE(MariadbGtidList::parse(bad).has_value()) << bad;
    }
}

TEST(MariadbGtidList, AddAndContains) {
    MariadbGtidList l;
    EXPECT_FALSE(l.contains({0, 1, 1}));
    l.add({0, 1, 5});
    l.add({3, 2, 7});
    EXPECT_EQ(l.str(), "0-1-5,3-2-7");
    EXPECT_TRUE(l.contains({0, 1, 5}));
    EXPECT_TRUE(l.contains({0, 9, 4}));  // sequence numbers order a domain, whatever the server
    EXPECT_FALSE(l.contains({0, 1, 6}));
    EXPECT_FALSE(l.contains({1, 1, 1}));
    l.add({0, 2, 6});  // the latest transaction becomes the domain's position
    EXPECT_EQ(l.str(), "0-2-6,3-2-7");
    EXPECT_TRUE(l.contains({0, 1, 6}));
    EXPECT_EQ(l, *MariadbGtidList::parse("3-2-7,0-2-6"));
}

TEST(GtidFlavour, LooksLikeMariadb) {
    EXPECT_TRUE(looks_like_mariadb_gtid("0-1-5"));
    EXPECT_TRUE(looks_like_mariadb_gtid("0-1-5,5-1-1"));
    EXPECT_FALSE(looks_like_mariadb_gtid("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"));
}

}  // namespace
}  // namespace rep::mysql
