// Redo timestamps (database time, no zone) into UTC through the offset SYSDATE shows.

#include "source/oracle/db_clock.h"

#include <gtest/gtest.h>

namespace rep::oracle {
namespace {

// 2026-12-01 12:00:00 UTC.
constexpr int64_t kNoonUtc = 1796126400;

TEST(OracleDbClock, ParsesTheDateFormatOnly) {
    EXPECT_EQ(parse_db_time("1970-01-01 00:00:00"), 0);
    EXPECT_EQ(parse_db_time("2026-12-01 12:00:00"), kNoonUtc);
    EXPECT_EQ(parse_db_time("2024-02-29 23:59:59"), 1709251199);
    EXPECT_EQ(parse_db_time("1969-12-31 23:59:59"), -1);
    for (const char* bad :
         {"", "2026-12-01", "01-DEC-26", "2026-12-01T12:00:00", "2026-13-01 12:00:00",
          "2026-12-01 24:00:00", "2026-12-01 12:00:0x", "2026-12-01 12:00:00.5"}) {
        EXPECT_FALSE(parse_db_time(bad)) << bad;
    }
}

// A server in India (+05:30), New York in winter (-05:00) and at UTC, each read with a few
// seconds of skew and query time: the offset comes out exact, and a redo TIMESTAMP maps to
// the UTC instant it was written.
TEST(OracleDbClock, MeasuresTheServerOffsetAndConvertsRedoTimes) {
    struct Case {
        const char* sysdate;
        int64_t offset;
        const char* redo;  // written at 11:59:30 UTC
    };
    for (const Case& c : {Case{"2026-12-01 17:30:03", 19800, "2026-12-01 17:29:30"},
                          Case{"2026-12-01 06:59:57", -18000, "2026-12-01 06:59:30"},
                          Case{"2026-12-01 12:00:01", 0, "2026-12-01 11:59:30"}}) {
        DbClock clock;
        EXPECT_FALSE(clock.to_utc_us(c.redo)) << "no offset measured yet";
        ASSERT_TRUE(clock.update(c.sysdate, kNoonUtc * 1000000));
        EXPECT_EQ(clock.offset_seconds(), c.offset) << c.sysdate;
        EXPECT_EQ(clock.to_utc_us(c.redo), (kNoonUtc - 30) * 1000000) << c.redo;
    }
    DbClock clock;
    EXPECT_FALSE(clock.update("not a date", kNoonUtc * 1000000));
    EXPECT_FALSE(clock.known());
}

}  // namespace
}  // namespace rep::oracle
