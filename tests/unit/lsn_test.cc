#include "source/postgres/lsn.h"

#include <gtest/gtest.h>

namespace rep::pg {
namespace {

TEST(Lsn, ParsesAndPrintsPostgresFormat) {
    auto lsn = Lsn::parse("16/B374D848");
    ASSERT_TRUE(lsn.has_value());
    EXPECT_EQ(lsn->value(), (uint64_t{0x16} << 32) | 0xB374D848);
    EXPECT_EQ(lsn->str(), "16/B374D848");
    EXPECT_EQ(Lsn::parse("0/0")->str(), "0/0");
    EXPECT_EQ(Lsn::parse("0/1924b38")->str(), "0/1924B38");
}

TEST(Lsn, RejectsMalformed) {
    for (const char* bad : {"", "/", "1/", "/1", "12", "G/0", "123456789/0", "0/0/0"}) {
        EXPECT_FALSE(Lsn::parse(bad).has_value()) << bad;
    }
}

TEST(Lsn, OrdersNumerically) {
    EXPECT_LT(*Lsn::parse("0/FFFFFFFF"), *Lsn::parse("1/0"));
    EXPECT_GT(*Lsn::parse("A/10"), *Lsn::parse("A/F"));
}

}  // namespace
}  // namespace rep::pg
