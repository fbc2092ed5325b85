#include "base/duration.h"

#include <gtest/gtest.h>

namespace rep {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(GoDuration, ParsesMoltDefaults) {
    EXPECT_EQ(parse_go_duration("5s"), Duration(seconds(5)));
    EXPECT_EQ(parse_go_duration("25ms"), Duration(milliseconds(25)));
    EXPECT_EQ(parse_go_duration("1m0s"), Duration(seconds(60)));
    EXPECT_EQ(parse_go_duration("24h0m0s"), Duration(std::chrono::hours(24)));
    EXPECT_EQ(parse_go_duration("1.5h"), Duration(std::chrono::minutes(90)));
    EXPECT_EQ(parse_go_duration("1m30s"), Duration(seconds(90)));
    EXPECT_EQ(parse_go_duration("0"), Duration(0));
    EXPECT_EQ(parse_go_duration("1ns"), Duration(1));
    EXPECT_EQ(parse_go_duration("3us"), Duration(3000));
}

TEST(GoDuration, RejectsMalformed) {
    for (const char* bad : {"", "5", "s", "5x", "1.s5", "ms", "--1s", "1h2"}) {
        EXPECT_FALSE(parse_go_duration(bad).has_value()) << bad;
    }
}

TEST(GoDuration, FormatsLikeGo) {
    EXPECT_EQ(format_go_duration(seconds(5)), "5s");
    EXPECT_EQ(format_go_duration(milliseconds(25)), "25ms");
    EXPECT_EQ(format_go_duration(seconds(60)), "1m0s");
    EXPECT_EQ(format_go_duration(std::chrono::hours(24)), "24h0m0s");
    EXPECT_EQ(format_go_duration(milliseconds(1500)), "1.5s");
    EXPECT_EQ(format_go_duration(Duration(0)), "0s");
}

TEST(GoDuration, RoundTrips) {
    for (const char* text : {"250ms", "1m0s", "2h3m4.5s", "30s", "1ns"}) {
        auto d = parse_go_duration(text);
        ASSERT_TRUE(d.has_value()) << text;
        EXPECT_EQ(format_go_duration(*d), text);
    }
}

}  // namespace
}  // namespace rep
