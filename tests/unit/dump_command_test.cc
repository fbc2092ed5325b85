#include "source/mysql/dump_command.h"

#include <gtest/gtest.h>

#include <string>

namespace rep::mysql {
namespace {

// COM_BINLOG_DUMP_GTID payload (command byte excluded), little-endian: int<2> flags,
// int<4> server_id, int<4> filename length, filename, int<8> position, int<4> data size,
// data = Gtid_set::encode().
TEST(DumpCommand, ByteExactPayload) {
    auto set = MysqlGtidSet::parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5");
    ASSERT_TRUE(set);
    std::string expected(
        "\x04\x00"                          // flags: BINLOG_THROUGH_GTID
        "\x04\x03\x02\x01"                  // server_id 0x01020304
        "\x00\x00\x00\x00"                  // empty file name
        "\x04\x00\x00\x00\x00\x00\x00\x00"  // position 4
        "\x30\x00\x00\x00"                  // 48 bytes of GTID set follow
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // one SID
        "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62"
        "\x01\x00\x00\x00\x00\x00\x00\x00"   // one interval
        "\x01\x00\x00\x00\x00\x00\x00\x00"   // [1,
        "\x06\x00\x00\x00\x00\x00\x00\x00",  //  6)
        2 + 4 + 4 + 8 + 4 + 48);
    EXPECT_EQ(com_binlog_dump_gtid_payload(0x01020304, *set), expected);
}

TEST(DumpCommand, ExtraFlagsAndEmptySet) {
    // extra_flags ORs in (0x01 is BINLOG_DUMP_NON_BLOCK); the empty set encodes as a zero count.
    std::string expected(
        "\x05\x00"
        "\x64\x00\x00\x00"                   // server_id 100
        "\x00\x00\x00\x00"                   // empty file name
        "\x04\x00\x00\x00\x00\x00\x00\x00"   // position 4
        "\x08\x00\x00\x00"                   // 8 bytes of GTID set
        "\x00\x00\x00\x00\x00\x00\x00\x00",  // zero SIDs
        2 + 4 + 4 + 8 + 4 + 8);
    EXPECT_EQ(com_binlog_dump_gtid_payload(100, MysqlGtidSet{}, 0x01), expected);
}

}  // namespace
}  // namespace rep::mysql
