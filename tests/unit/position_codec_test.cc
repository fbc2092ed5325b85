// Each source's positions: how the memo text is read back, spelled and named.

#include "source/mysql/gtid_codec.h"
#include "source/postgres/lsn.h"
#include "source/postgres/lsn_codec.h"

#include <gtest/gtest.h>

namespace rep {
namespace {

TEST(LsnCodec, TheMemoTextIsTheLsnAndTheOrdinalItsValue) {
    pg::LsnCodec c;
    auto p = c.parse("16/B374D848");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->ordinal, Ordinal(0x16B374D848));
    EXPECT_EQ(p->text, "16/B374D848");
    EXPECT_EQ(c.parse("16/b374d848")->text, "16/B374D848");  // spelled as PostgreSQL does
    EXPECT_FALSE(c.parse("0-1-5"));
    EXPECT_FALSE(c.parse(""));
    EXPECT_TRUE(c.stable_ordinals());
    EXPECT_EQ(c.at(Ordinal(0x100000000)).text, "1/0");
    EXPECT_EQ(c.describe(*p), "LSN 16/B374D848");
    EXPECT_EQ(c.describe_ordinal(Ordinal(0x10)), "LSN 0/10");
    EXPECT_EQ(c.describe_transaction(42, Position{Ordinal(0x20), {}}),
              "source transaction 42, commit at LSN 0/20");
}

TEST(GtidCodec, TheMemoTextIsTheGtidSetAndOrdinalsCountTransactions) {
    mysql::GtidCodec c;
    for (const char* text :
         {"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9", "0-1-1042,5-1-7", ""}) {
        auto p = c.parse(text);
        ASSERT_TRUE(p) << text;
        EXPECT_EQ(p->text, text);
        EXPECT_EQ(p->ordinal, Ordinal(0));  // ordinals mean nothing across runs
    }
    EXPECT_FALSE(c.parse("16/B374D848"));
    EXPECT_FALSE(c.stable_ordinals());
    EXPECT_EQ(c.describe(Position{Ordinal(3), "0-1-5"}), "GTID set 0-1-5");
    EXPECT_EQ(c.describe(Position{}), "GTID set (none)");
    EXPECT_EQ(c.describe_transaction(0, Position{Ordinal(4), "0-1-6"}), "source transaction 0-1-6");
    EXPECT_EQ(c.describe_ordinal(Ordinal(4)).find("LSN"), std::string::npos);
    EXPECT_EQ(mysql::gtid_transactions("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9"), 8u);
    EXPECT_EQ(mysql::gtid_transactions("0-1-1042,5-1-7"), 1049u);
}

}  // namespace
}  // namespace rep
