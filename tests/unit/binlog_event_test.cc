#include "source/mysql/binlog_event.h"

#include "base/error.h"

#include "binlog_test_util.h"
#include "capture_file.h"
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

// Binlog events captured from a real MariaDB 10.11 (see testdata/README.md).

namespace rep::mysql {
namespace {

using namespace rep::mysql::test_util;
using rep::testing::read_capture;

// ---- captured MariaDB 10.11 events (see testdata/README.md) ----

TEST(BinlogEventMariadb, StreamStructure) {
    auto raw = read_capture("mariadb_10_11.bin");
    ASSERT_EQ(raw.size(), 52u);
    BinlogDecoder dec;
    auto evs = decode_all(dec, raw);

    // Artificial ROTATE first (LOG_EVENT_ARTIFICIAL_F, log_pos 0); its checksum is detected.
    EXPECT_EQ(evs[0].header.type, kRotateEvent);
    EXPECT_EQ(evs[0].header.log_pos, 0u);
    EXPECT_EQ(evs[0].header.flags, 0x20);
    EXPECT_EQ(as<Rotate>(evs[0]).file, "mysql-bin.000001");
    EXPECT_EQ(as<Rotate>(evs[0]).position, 4u);

    const auto& fd = as<FormatDescription>(evs[1]);
    EXPECT_EQ(fd.binlog_version, 4);
    EXPECT_EQ(fd.server_version.rfind("10.11.", 0), 0u) << fd.server_version;
    EXPECT_TRUE(fd.checksum_crc32);
    EXPECT_EQ(evs[1].header.event_size, 252u);
    EXPECT_EQ(evs[1].header.log_pos, 256u);

    EXPECT_TRUE(as<MariadbGtidListEvent>(evs[2]).list.empty());
    EXPECT_EQ(as<OtherEvent>(evs[3]).type, kBinlogCheckpointEvent);

    // DDL: standalone GTID, then QUERY.
    const auto& g1 = as<MariadbGtid>(evs[4]);
    EXPECT_EQ(g1.gtid.domain, 0u);
    EXPECT_EQ(g1.gtid.server, 1u);
    EXPECT_EQ(g1.gtid.seq, 1u);
    EXPECT_TRUE(g1.standalone);
    EXPECT_EQ(as<Query>(evs[5]).database, "app");
    EXPECT_EQ(as<Query>(evs[5]).sql, "CREATE DATABASE app");
    EXPECT_EQ(as<Query>(evs[7]).sql.rfind("CREATE TABLE types (", 0), 0u);

    // Row transaction: non-standalone GTID, TABLE_MAP, WRITE_ROWS v1, XID.
    const auto& g3 = as<MariadbGtid>(evs[8]);
    EXPECT_EQ(g3.gtid.seq, 3u);
    EXPECT_FALSE(g3.standalone);
    EXPECT_EQ(as<TableMapEvent>(evs[9]).map->table, "types");
    EXPECT_EQ(evs[10].header.type, kWriteRowsV1);
    EXPECT_TRUE(as<RowsEvent>(evs[10]).end_of_statement);
    EXPECT_EQ(as<Xid>(evs[11]).xid, 7u);

    // Last transaction after the DDL: a new table id for the altered table.
    EXPECT_EQ(as<MariadbGtid>(evs[46]).gtid.seq, 12u);
    EXPECT_TRUE(as<MariadbGtid>(evs[46]).standalone);
    EXPECT_EQ(as<Query>(evs[47]).sql, "ALTER TABLE parent ADD COLUMN extra INT");
    EXPECT_EQ(as<MariadbGtid>(evs[48]).gtid.seq, 13u);
    const auto& tm = as<TableMapEvent>(evs[49]);
    EXPECT_EQ(tm.map->columns.size(), 3u);
    EXPECT_EQ(texts(as<RowsEvent>(evs[50]).after[0]), (std::vector<std::string>{"2", "p2", "7"}));
    EXPECT_EQ(as<Xid>(evs[51]).xid, 22u);
}

TEST(BinlogEventMariadb, TableMapFullMetadata) {
    auto raw = read_capture("mariadb_10_11.bin");
    BinlogDecoder dec;
    auto evs = decode_all(dec, raw);
    const TableMap& m = *as<TableMapEvent>(evs[9]).map;
    EXPECT_EQ(m.database, "app");
    EXPECT_EQ(m.table, "types");
    EXPECT_TRUE(m.has_names);
    ASSERT_EQ(m.columns.size(), 32u);
    std::vector<std::string> names;
    for (const auto& c : m.columns) {
        names.push_back(c.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"id",  "ti",  "tu",  "si", "su", "mi", "mu", "i",
                                               "iu",  "bi",  "bu",  "d",  "f",  "db", "b",  "y",
                                               "dt",  "tm",  "dtm", "ts", "c5", "vc", "tx", "lc",
                                               "lvc", "ltx", "bn",  "vb", "bl", "e",  "s",  "j"}));
    EXPECT_TRUE(m.columns[0].is_key);
    EXPECT_FALSE(m.columns[0].nullable);
    EXPECT_FALSE(m.columns[1].is_key);
    EXPECT_TRUE(m.columns[1].nullable);
    EXPECT_FALSE(m.columns[1].is_unsigned);
    EXPECT_TRUE(m.columns[2].is_unsigned);
    EXPECT_TRUE(m.columns[10].is_unsigned);  // BIGINT UNSIGNED
    EXPECT_EQ(m.columns[11].type, kNewDecimal);
    EXPECT_EQ(m.columns[11].meta, (30 << 8) | 10);
    EXPECT_EQ(m.columns[14].type, kBit);
    EXPECT_EQ(m.columns[14].meta, (1 << 8) | 2);  // 1 whole byte + 2 bits
    EXPECT_EQ(m.columns[16].type, kDate);
    EXPECT_EQ(m.columns[17].type, kTime2);
    EXPECT_EQ(m.columns[17].meta, 6);
    EXPECT_EQ(m.columns[18].type, kDateTime2);
    EXPECT_EQ(m.columns[19].type, kTimestamp2);
    EXPECT_EQ(m.columns[19].meta, 3);
    // CHAR(5) utf8mb4: real type STRING, 20 bytes; collations from DEFAULT_CHARSET.
    EXPECT_EQ(m.columns[20].type, kString);
    EXPECT_EQ(m.columns[20].real_type, kString);
    EXPECT_EQ(m.columns[20].meta, 20);
    EXPECT_EQ(m.columns[20].collation, 45u);  // utf8mb4_general_ci
    EXPECT_EQ(m.columns[21].meta, 1200);      // VARCHAR(300) utf8mb4
    EXPECT_EQ(m.columns[22].meta, 2);         // TEXT: 2 length bytes
    EXPECT_EQ(m.columns[23].collation, 8u);   // latin1_swedish_ci
    EXPECT_EQ(m.columns[25].collation, 8u);
    EXPECT_EQ(m.columns[26].collation, 63u);  // binary
    EXPECT_EQ(m.columns[28].collation, 63u);
    EXPECT_EQ(m.columns[29].real_type, kEnum);
    EXPECT_EQ(m.columns[29].enum_values, (std::vector<std::string>{"small", "medium", "large"}));
    EXPECT_EQ(m.columns[30].real_type, kSet);
    EXPECT_EQ(m.columns[30].set_values, (std::vector<std::string>{"a", "b", "c", "d"}));
    // MariaDB's JSON is LONGTEXT with utf8mb4_bin.
    EXPECT_EQ(m.columns[31].type, kBlob);
    EXPECT_EQ(m.columns[31].meta, 4);
    EXPECT_EQ(m.columns[31].collation, 46u);
}

const std::vector<std::string> kRow1 = {
    "1",
    "-128",
    "255",
    "-32768",
    "65535",
    "-8388608",
    "16777215",
    "-2147483648",
    "4294967295",
    "-9223372036854775808",
    "18446744073709551615",
    "-12345678901234567890.0123456789",
    "3.14",
    "-2.718281828459045",
    "1000000001",
    "2024",
    "2024-02-29",
    "-838:59:59.000000",
    "2024-02-29 13:14:15.123456",
    "2024-02-29 23:02:03.456+00",  // inserted as 01:02:03.456 in time zone +02:00
    "h\xC3\xA9llo",
    "snow \xE2\x98\x83 man",
    "t\xC3\xABxt \xF0\x9F\x8E\x89",
    "\xC3\xA9\xE2\x82\xAC",  // latin1 é€ (0xE9 0x80) -> UTF-8
    "caf\xC3\xA9 \xE2\x82\xAC"
    "5",
    "latin \xC3\xBF\xE2\x82\xAC",
    "\\x00ff7f80",
    "\\xdeadbeef00",
    "\\xc328ff",
    "medium",
    "a,c",
    R"({"k": [1, 2.5, "x"], "n": null})",
};

TEST(BinlogEventMariadb, RowValuesEveryType) {
    auto raw = read_capture("mariadb_10_11.bin");
    BinlogDecoder dec;
    auto evs = decode_all(dec, raw);

    const auto& ins = as<RowsEvent>(evs[10]);
    EXPECT_EQ(ins.op, 'I');
    EXPECT_EQ(ins.map->table, "types");
    EXPECT_TRUE(ins.before.empty());
    ASSERT_EQ(ins.after.size(), 1u);
    EXPECT_EQ(texts(ins.after[0]), kRow1);

    std::vector<std::string> nulls(32, "<null>");
    const auto& ins2 = as<RowsEvent>(evs[14]);
    ASSERT_EQ(ins2.after.size(), 2u);
    auto row2 = nulls;
    row2[0] = "2";
    row2[11] = "99999999999999999999.9999999999";
    row2[12] = "0";
    row2[13] = "1e+300";
    row2[15] = "0";  // YEAR 0
    row2[17] = "100:00:00.500000";
    row2[18] = "1000-01-01 00:00:00.000000";
    row2[19] = "1970-01-01 00:00:01.000+00";
    EXPECT_EQ(texts(ins2.after[0]), row2);
    auto row3 = nulls;
    row3[0] = "3";
    row3[11] = "-0.0000000001";
    row3[12] = "-1.5";
    row3[13] = "0";
    row3[15] = "1901";
    row3[17] = "-00:00:00.000001";
    row3[18] = "9999-12-31 23:59:59.999999";
    row3[19] = "2038-01-19 03:14:07.999+00";
    EXPECT_EQ(texts(ins2.after[1]), row3);

    const auto& ins3 = as<RowsEvent>(evs[18]);
    auto row4 = nulls;
    row4[0] = "4";
    row4[11] = "0.0000000000";
    row4[17] = "12:34:56.700000";
    row4[29] = "large";
    row4[30] = "a,b,c,d";
    EXPECT_EQ(texts(ins3.after[0]), row4);

    // UPDATE with the full before and after images.
    const auto& upd = as<RowsEvent>(evs[22]);
    EXPECT_EQ(upd.op, 'U');
    ASSERT_EQ(upd.before.size(), 1u);
    ASSERT_EQ(upd.after.size(), 1u);
    EXPECT_EQ(texts(upd.before[0]), kRow1);
    auto after = kRow1;
    after[2] = "<null>";
    after[21] = "changed";
    EXPECT_EQ(texts(upd.after[0]), after);

    // UPDATE that changes the primary key.
    const auto& pk = as<RowsEvent>(evs[26]);
    EXPECT_EQ(texts(pk.before[0]), row2);
    auto row10 = row2;
    row10[0] = "10";
    EXPECT_EQ(texts(pk.after[0]), row10);

    const auto& del = as<RowsEvent>(evs[30]);
    EXPECT_EQ(del.op, 'D');
    EXPECT_TRUE(del.after.empty());
    ASSERT_EQ(del.before.size(), 1u);
    EXPECT_EQ(texts(del.before[0]), row3);
}

TEST(BinlogEventMariadb, MultiTableTransaction) {
    auto raw = read_capture("mariadb_10_11.bin");
    BinlogDecoder dec;
    auto evs = decode_all(dec, raw);
    EXPECT_FALSE(as<MariadbGtid>(evs[36]).standalone);
    const auto& p = as<RowsEvent>(evs[38]);
    EXPECT_EQ(p.map->table, "parent");
    EXPECT_EQ(texts(p.after[0]), (std::vector<std::string>{"1", "p1"}));
    const auto& c = as<RowsEvent>(evs[40]);
    EXPECT_EQ(c.map->table, "child");
    EXPECT_TRUE(c.map->columns[0].is_key);
    EXPECT_TRUE(c.map->columns[1].is_key);
    EXPECT_FALSE(c.map->columns[2].is_key);
    ASSERT_EQ(c.after.size(), 2u);
    EXPECT_EQ(texts(c.after[0]), (std::vector<std::string>{"1", "1", "a"}));
    EXPECT_EQ(texts(c.after[1]), (std::vector<std::string>{"1", "2", "<null>"}));
    const auto& u = as<RowsEvent>(evs[42]);
    EXPECT_EQ(texts(u.before[0]), (std::vector<std::string>{"1", "p1"}));
    EXPECT_EQ(texts(u.after[0]), (std::vector<std::string>{"1", "p1b"}));
    const auto& d = as<RowsEvent>(evs[44]);
    EXPECT_EQ(d.map->table, "child");
    EXPECT_EQ(texts(d.before[0]), (std::vector<std::string>{"1", "2", "<null>"}));
    EXPECT_EQ(as<Xid>(evs[45]).xid, 16u);
}

// The server switched binlog_checksum from CRC32 to NONE: file 1 (checksummed) is replayed, then
// file 2 starts with a FORMAT_DESCRIPTION that turns checksums off.
TEST(BinlogEventMariadb, ChecksumSwitchesAtFormatDescription) {
    auto raw = read_capture("mariadb_10_11_nocrc.bin");
    ASSERT_EQ(raw.size(), 62u);
    BinlogDecoder dec;
    auto evs = decode_all(dec, raw);
    EXPECT_EQ(raw[0].size(), 43u);  // artificial ROTATE without checksum
    EXPECT_EQ(as<Rotate>(evs[0]).file, "mysql-bin.000001");
    EXPECT_TRUE(as<FormatDescription>(evs[1]).checksum_crc32);
    EXPECT_EQ(as<Rotate>(evs[52]).file, "mysql-bin.000002");  // real ROTATE at the end of file 1
    EXPECT_EQ(raw[52].size(), 47u);
    EXPECT_EQ(as<Rotate>(evs[53]).file, "mysql-bin.000002");  // artificial, still checksummed
    EXPECT_EQ(evs[53].header.log_pos, 0u);
    EXPECT_FALSE(as<FormatDescription>(evs[54]).checksum_crc32);
    EXPECT_EQ(as<MariadbGtidListEvent>(evs[55]).list.str(), "0-1-13");
    EXPECT_EQ(as<MariadbGtid>(evs[58]).gtid.seq, 14u);
    EXPECT_EQ(raw[58].size(), 38u);  // 19 + 19, no checksum
    EXPECT_EQ(texts(as<RowsEvent>(evs[60]).after[0]),
              (std::vector<std::string>{"3", "no crc", "<null>"}));
    EXPECT_EQ(as<Xid>(evs[61]).xid, 38u);
}

TEST(BinlogEventMariadb, ChecksumMismatchIsFatal) {
    auto raw = read_capture("mariadb_10_11.bin");
    BinlogDecoder dec;
    for (size_t i = 0; i < 10; ++i) {
        dec.decode(raw[i]);
    }
    std::string bad = raw[10];
    bad[40] = static_cast<char>(bad[40] ^ 1);
    try {
        dec.decode(bad);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("log position 2310"), std::string::npos) << e.what();
    }
    // A corrupted FORMAT_DESCRIPTION is caught by its own checksum.
    std::string fde = raw[1];
    fde[25] = 'X';
    EXPECT_THROW(dec.decode(fde), Error);
}

TEST(BinlogEventMariadb, RowsWithoutTableMapIsFatal) {
    auto raw = read_capture("mariadb_10_11.bin");
    BinlogDecoder dec;
    dec.decode(raw[1]);
    EXPECT_THROW(dec.decode(raw[10]), Error);
    dec.decode(raw[9]);
    EXPECT_NO_THROW(dec.decode(raw[10]));
    dec.reset_tables();
    EXPECT_THROW(dec.decode(raw[10]), Error);
}

TEST(BinlogEventMariadb, TruncatedEventIsFatal) {
    auto raw = read_capture("mariadb_10_11.bin");
    BinlogDecoder dec;
    EXPECT_THROW(dec.decode(raw[1].substr(0, 10)), Error);
    EXPECT_THROW(dec.decode(raw[1].substr(0, 100)), Error);  // size differs from the header
}

}  // namespace
}  // namespace rep::mysql
