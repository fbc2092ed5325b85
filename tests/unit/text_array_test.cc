#include "util/text_array.h"

#include <gtest/gtest.h>

namespace rep {
namespace {

TEST(TextArrayBuilder, QuotesEveryElement) {
    TextArrayBuilder b;
    b.add("plain");
    b.add_null();
    b.add("NULL");
    b.add("with \"quotes\" and \\ backslash");
    b.add("{braces},commas");
    b.add("");
    EXPECT_EQ(b.finish(),
              R"({"plain",NULL,"NULL","with \"quotes\" and \\ backslash","{braces},commas",""})");
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.finish(), "{}");
}

}  // namespace
}  // namespace rep
