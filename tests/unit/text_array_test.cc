#include "util/text_array.h"

#include <gtest/gtest.h>

namespace rep::util {
namespace {

TEST(TextArrayBuilder, QuotesEveryElement) {
    std::string out = "left over from the last batch";
    TextArrayBuilder b(out);
    EXPECT_TRUE(b.empty());
    b.add("plain");
    b.add_null();
    b.add("NULL");
    b.add("with \"quotes\" and \\ backslash");
    b.add("{braces},commas");
    b.add("");
    b.add("\"\\");
    EXPECT_FALSE(b.empty());
    b.finish();
    EXPECT_EQ(
        out,
        R"({"plain",NULL,"NULL","with \"quotes\" and \\ backslash","{braces},commas","","\"\\"})");
}

TEST(TextArrayBuilder, ReusedStringStartsOver) {
    std::string out;
    {
        TextArrayBuilder b(out);
        b.add(std::string(1000, 'x'));
        b.finish();
    }
    size_t capacity = out.capacity();
    TextArrayBuilder b(out);
    b.finish();
    EXPECT_EQ(out, "{}");
    EXPECT_EQ(out.capacity(), capacity);
}

}  // namespace
}  // namespace rep::util
