#include "source/mysql/binlog_event.h"

#include "base/error.h"

#include "capture_file.h"
#include <gtest/gtest.h>

#include <string>
#include <vector>
#include <zlib.h>

namespace rep::mysql {
namespace {

using rep::testing::read_capture;

// ---- helpers for hand-built events ----

void put_le(std::string& s, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) {
        s.push_back(static_cast<char>(c));
    }
    return s;
}

// A whole event: the 19-byte common header (timestamp, type, server id, event size, log pos,
// flags; all little-endian), the body and, if `crc`, the CRC32 of everything before it.
std::string make_event(uint8_t type, const std::string& body, bool crc, uint32_t log_pos = 1000,
                       uint32_t server_id = 1, uint16_t flags = 0) {
    std::string e;
    put_le(e, 1700000000, 4);
    e.push_back(static_cast<char>(type));
    put_le(e, server_id, 4);
    put_le(e, 19 + body.size() + (crc ? 4 : 0), 4);
    put_le(e, log_pos, 4);
    put_le(e, flags, 2);
    e += body;
    if (crc) {
        auto c = ::crc32(0L, reinterpret_cast<const Bytef*>(e.data()), static_cast<uInt>(e.size()));
        put_le(e, c, 4);
    }
    return e;
}

// FORMAT_DESCRIPTION body (MySQL's Format_description_event): binlog version u16, server version
// char[50], create timestamp u32, common header length u8 (19), one post-header length per event
// type, then (checksum-aware servers) the checksum algorithm byte; the 4 checksum bytes follow.
std::string fde_body(const std::string& version, uint8_t alg) {
    std::string b;
    put_le(b, 4, 2);
    std::string v = version;
    v.resize(50, '\0');
    b += v;
    put_le(b, 0, 4);
    b.push_back(19);
    // MySQL 8.0's post-header lengths for types 1..41 (ROWS v2 = 10, TABLE_MAP = 8, GTID = 42).
    const std::string post =
        bytes({0, 13, 0, 8, 0, 0, 0, 0, 4,  0,  0,  0,  0,  0, 0, 0, 0, 0, 8, 0, 0,
               0, 0,  0, 0, 0, 0, 0, 0, 10, 10, 10, 42, 42, 0, 0, 0, 0, 0, 0, 0});
    b += post;
    b.push_back(static_cast<char>(alg));
    return b;
}

std::string fde_event(const std::string& version, bool crc) {
    std::string body = fde_body(version, crc ? 1 : 0);
    if (!crc) {
        // A checksum-aware server still reserves the 4 checksum bytes when checksums are off.
        std::string e = make_event(kFormatDescriptionEvent, body + std::string(4, '\0'), false);
        return e;
    }
    return make_event(kFormatDescriptionEvent, body, true);
}

template <typename T>
const T& as(const DecodedEvent& ev) {
    const T* p = std::get_if<T>(&ev.event);
    if (p == nullptr) {
        throw std::runtime_error("event " + std::to_string(ev.header.type) +
                                 " is not the expected variant");
    }
    return *p;
}

std::vector<std::string> texts(const std::vector<Datum>& row) {
    std::vector<std::string> out;
    for (const auto& d : row) {
        out.push_back(d.is_null() ? "<null>" : d.absent() ? "<absent>" : d.text);
    }
    return out;
}

std::vector<DecodedEvent> decode_all(BinlogDecoder& dec, const std::vector<std::string>& events) {
    std::vector<DecodedEvent> out;
    for (const auto& e : events) {
        out.push_back(dec.decode(e));
    }
    return out;
}

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

// ---- hand-built MySQL 8 events ----

class BinlogEventMysql : public ::testing::Test {
protected:
    void SetUp() override {
        auto fd = dec.decode(fde_event("8.0.36", true));
        ASSERT_TRUE(as<FormatDescription>(fd).checksum_crc32);
    }
    BinlogDecoder dec;
};

TEST_F(BinlogEventMysql, FormatDescriptionWithoutChecksum) {
    BinlogDecoder d;
    auto ev = d.decode(fde_event("8.0.36", false));
    EXPECT_EQ(as<FormatDescription>(ev).server_version, "8.0.36");
    EXPECT_FALSE(as<FormatDescription>(ev).checksum_crc32);
    // Events are then taken whole: an XID body is exactly 8 bytes.
    std::string xid;
    put_le(xid, 77, 8);
    EXPECT_EQ(as<Xid>(d.decode(make_event(kXidEvent, xid, false))).xid, 77u);
    // A pre-checksum server (5.5) has no algorithm byte at all.
    BinlogDecoder old;
    std::string body = fde_body("5.5.62-log", 0);
    body.pop_back();
    EXPECT_FALSE(as<FormatDescription>(old.decode(make_event(15, body, false))).checksum_crc32);
}

// Gtid_log_event (MySQL 8.0, libbinlogevents control_events.h): commit flag u8, SID 16 bytes,
// GNO i64, logical-clock type code u8 (2), last_committed i64, sequence_number i64,
// immediate_commit_timestamp 7 bytes (bit 55 set: original_commit_timestamp 7 bytes follows),
// transaction_length (packed), immediate/original server version u32...
std::string gtid_body(uint64_t gno, uint64_t immediate, std::optional<uint64_t> original) {
    std::string b;
    b.push_back(1);
    b += bytes({0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42,
                0x95, 0x62});
    put_le(b, gno, 8);
    b.push_back(2);
    put_le(b, 41, 8);  // last_committed
    put_le(b, 42, 8);  // sequence_number
    if (original) {
        put_le(b, immediate | (uint64_t{1} << 55), 7);
        put_le(b, *original, 7);
    } else {
        put_le(b, immediate, 7);
    }
    b.push_back(static_cast<char>(0xfc));  // transaction_length, packed: 2 bytes follow
    put_le(b, 700, 2);
    put_le(b, 80036, 4);  // immediate_server_version
    return b;
}

TEST_F(BinlogEventMysql, GtidWithCommitTimestamps) {
    // Originated on this server: one timestamp, the original equals the immediate one.
    auto ev =
        dec.decode(make_event(kGtidEvent, gtid_body(5, 1700000000123456, std::nullopt), true));
    const auto& g = as<MysqlGtid>(ev);
    EXPECT_EQ(MysqlGtidSet::uuid_str(g.uuid), "3e11fa47-71ca-11e1-9e33-c80aa9429562");
    EXPECT_EQ(g.gno, 5u);
    EXPECT_EQ(g.original_commit_time_us, 1700000000123456);

    // Replicated: the immediate timestamp has bit 55 set and the original follows.
    auto ev2 =
        dec.decode(make_event(kGtidEvent, gtid_body(6, 1700000000999999, 1690000000000001), true));
    EXPECT_EQ(as<MysqlGtid>(ev2).gno, 6u);
    EXPECT_EQ(as<MysqlGtid>(ev2).original_commit_time_us, 1690000000000001);

    // MySQL 5.7 stops after sequence_number: no timestamp.
    std::string old = gtid_body(7, 0, std::nullopt).substr(0, 42);
    EXPECT_EQ(as<MysqlGtid>(dec.decode(make_event(kGtidEvent, old, true))).original_commit_time_us,
              0);

    // ANONYMOUS_GTID has the same layout with a zero SID.
    std::string anon = gtid_body(0, 5, std::nullopt);
    std::fill(anon.begin() + 1, anon.begin() + 17, '\0');
    auto a = dec.decode(make_event(kAnonymousGtidEvent, anon, true));
    EXPECT_EQ(as<MysqlGtid>(a).gno, 0u);
    EXPECT_EQ(as<MysqlGtid>(a).original_commit_time_us, 5);
}

TEST_F(BinlogEventMysql, PreviousGtids) {
    // Previous_gtids_log_event body = Gtid_set::encode(): n_sids i64, then per SID the UUID,
    // n_intervals i64 and [start, end) i64 pairs.
    std::string b;
    put_le(b, 1, 8);
    b += bytes({0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42,
                0x95, 0x62});
    put_le(b, 2, 8);
    put_le(b, 1, 8);
    put_le(b, 6, 8);
    put_le(b, 7, 8);
    put_le(b, 10, 8);
    auto ev = dec.decode(make_event(kPreviousGtidsEvent, b, true));
    EXPECT_EQ(as<PreviousGtids>(ev).set.str(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9");
    EXPECT_THROW(dec.decode(make_event(kPreviousGtidsEvent, b.substr(0, 30), true)), Error);
}

TEST_F(BinlogEventMysql, QueryXidRotateHeartbeat) {
    // Query_event post-header: thread id u32, exec time u32, db length u8, error code u16,
    // status vars length u16; then status vars, db name + NUL, SQL text.
    std::string q;
    put_le(q, 12, 4);
    put_le(q, 0, 4);
    q.push_back(3);
    put_le(q, 0, 2);
    std::string status = bytes({0x00, 0, 0, 0, 0,              // Q_FLAGS2_CODE u32
                                0x01, 0, 0, 0x20, 0, 0, 0, 0,  // Q_SQL_MODE_CODE u64
                                0x06, 3, 's', 't', 'd'});      // Q_CATALOG_NZ_CODE
    put_le(q, status.size(), 2);
    q += status;
    q += std::string("app", 3) + '\0';
    q += "BEGIN";
    auto ev = dec.decode(make_event(kQueryEvent, q, true));
    EXPECT_EQ(as<Query>(ev).database, "app");
    EXPECT_EQ(as<Query>(ev).sql, "BEGIN");

    std::string x;
    put_le(x, 0x0102030405060708, 8);
    EXPECT_EQ(as<Xid>(dec.decode(make_event(kXidEvent, x, true))).xid, 0x0102030405060708u);

    std::string r;
    put_le(r, 4, 8);
    r += "binlog.000007";
    auto rev = dec.decode(make_event(kRotateEvent, r, true));
    const auto& rot = as<Rotate>(rev);
    EXPECT_EQ(rot.file, "binlog.000007");
    EXPECT_EQ(rot.position, 4u);

    EXPECT_TRUE(std::holds_alternative<Heartbeat>(
        dec.decode(make_event(kHeartbeatEvent, "binlog.000007", true)).event));
    EXPECT_TRUE(std::holds_alternative<Heartbeat>(
        dec.decode(make_event(kHeartbeatV2Event, bytes({1, 0}), true)).event));
    auto other = dec.decode(make_event(kStopEvent, "", true));
    EXPECT_EQ(as<OtherEvent>(other).type, kStopEvent);
    EXPECT_EQ(other.header.server_id, 1u);
    EXPECT_EQ(other.header.timestamp, 1700000000u);
}

// TABLE_MAP of `CREATE TABLE app.t (id BIGINT UNSIGNED PRIMARY KEY, doc JSON, ts TIMESTAMP(6),
// note VARCHAR(10) CHARACTER SET latin1, v INT)` as MySQL 8.0 logs it with
// binlog_row_metadata=FULL (Table_map_event layout, see row_values_test.cc for the fields).
std::string mysql_table_map_body() {
    std::string b;
    put_le(b, 91, 6);  // table id
    put_le(b, 1, 2);   // flags
    b += bytes({3, 'a', 'p', 'p', 0, 1, 't', 0});
    b.push_back(5);  // column count
    b += bytes({kLongLong, kJson, kTimestamp2, kVarchar, kLong});
    b += bytes({4, 4, 6, 10, 0});  // metadata: JSON 4 length bytes, fsp 6, VARCHAR max 10
    b.push_back(0x1e);             // nullable: all but id
    // SIGNEDNESS over the numeric columns (id, v): id unsigned.
    b += bytes({1, 1, 0x80});
    // DEFAULT_CHARSET: default 255 (utf8mb4_0900_ai_ci, packed as 0xfc + u16), then the pair
    // (character column 0 = note, collation 8).
    b += bytes({2, 5, 0xfc, 0xff, 0x00, 0, 8});
    // COLUMN_NAME
    b += bytes({4, 17, 2, 'i', 'd', 3, 'd', 'o', 'c', 2, 't', 's', 4, 'n', 'o', 't', 'e', 1, 'v'});
    // SIMPLE_PRIMARY_KEY: column 0
    b += bytes({8, 1, 0});
    // COLUMN_VISIBILITY: all visible
    b += bytes({12, 1, 0xf8});
    return b;
}

TEST_F(BinlogEventMysql, TableMapAndRowsV2) {
    auto tm = dec.decode(make_event(kTableMapEvent, mysql_table_map_body(), true));
    const TableMap& m = *as<TableMapEvent>(tm).map;
    EXPECT_EQ(m.table_id, 91u);
    EXPECT_TRUE(m.has_names);
    EXPECT_TRUE(m.columns[0].is_unsigned);
    EXPECT_TRUE(m.columns[0].is_key);
    EXPECT_FALSE(m.columns[4].is_unsigned);
    EXPECT_EQ(m.columns[3].collation, 8u);
    EXPECT_EQ(m.columns[0].collation, 0u);

    // WRITE_ROWS v2 (Rows_event): table id 6 bytes, flags u16 (STMT_END_F), extra_row_info
    // length u16 counting itself + the extra data (here: partition info, type 1, id 3), column
    // count (packed), columns-present bitmap, then per row: null bitmap over the present
    // columns and the values.
    std::string w;
    put_le(w, 91, 6);
    put_le(w, 1, 2);
    put_le(w, 2 + 3, 2);
    w += bytes({1, 3, 0});  // extra data (partition id)
    w.push_back(5);
    w.push_back(0x1f);
    w.push_back(0x08);           // row 1: note is NULL
    put_le(w, ~uint64_t{0}, 8);  // id 18446744073709551615
    // doc: binary JSON {"a": 1} (json_binary.h: small object type 0x00, count u16, size u16,
    // key entry offset/length, value entry int16 type 0x05 inlined, key bytes).
    w += bytes({13, 0, 0, 0, 0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x05, 1, 0, 'a'});
    // ts: TIMESTAMP2(6) 2024-01-02 03:04:05.123456 UTC = 1704164645 s, 3-byte fraction.
    w += bytes({0x65, 0x93, 0x7d, 0x25, 0x01, 0xe2, 0x40});
    put_le(w, static_cast<uint32_t>(-7), 4);  // v
    auto ev = dec.decode(make_event(kWriteRowsV2, w, true));
    const auto& rows = as<RowsEvent>(ev);
    EXPECT_EQ(rows.op, 'I');
    EXPECT_TRUE(rows.end_of_statement);
    ASSERT_EQ(rows.after.size(), 1u);
    auto t = texts(rows.after[0]);
    EXPECT_EQ(t[0], "18446744073709551615");
    EXPECT_NE(t[1].find("\"a\""), std::string::npos) << t[1];  // rendering is mysql_json's
    EXPECT_EQ(t[2], "2024-01-02 03:04:05.123456+00");
    EXPECT_EQ(t[3], "<null>");
    EXPECT_EQ(t[4], "-7");

    // UPDATE_ROWS v2 with binlog_row_image=MINIMAL: before image has only the key, after image
    // only the changed column; the rest are absent. No extra data (length 2).
    std::string u;
    put_le(u, 91, 6);
    put_le(u, 0, 2);
    put_le(u, 2, 2);
    u.push_back(5);
    u.push_back(0x01);  // before: id
    u.push_back(0x08);  // after: note
    u.push_back(0x00);
    put_le(u, 42, 8);
    u.push_back(0x00);
    u += bytes({3, static_cast<char>(0xe9), static_cast<char>(0x80), '!'});
    auto uev = dec.decode(make_event(kUpdateRowsV2, u, true));
    const auto& ur = as<RowsEvent>(uev);
    EXPECT_EQ(ur.op, 'U');
    EXPECT_FALSE(ur.end_of_statement);
    EXPECT_EQ(texts(ur.before[0]),
              (std::vector<std::string>{"42", "<absent>", "<absent>", "<absent>", "<absent>"}));
    EXPECT_EQ(texts(ur.after[0]), (std::vector<std::string>{"<absent>", "<absent>", "<absent>",
                                                            "\xC3\xA9\xE2\x82\xAC!", "<absent>"}));

    // DELETE_ROWS v2, two rows, key only.
    std::string d;
    put_le(d, 91, 6);
    put_le(d, 1, 2);
    put_le(d, 2, 2);
    d.push_back(5);
    d.push_back(0x01);
    d.push_back(0x00);
    put_le(d, 1, 8);
    d.push_back(0x00);
    put_le(d, 2, 8);
    auto dev = dec.decode(make_event(kDeleteRowsV2, d, true));
    const auto& dr = as<RowsEvent>(dev);
    ASSERT_EQ(dr.before.size(), 2u);
    EXPECT_EQ(dr.before[1][0].text, "2");
    EXPECT_TRUE(dr.before[1][1].absent());

    // A value error names table, column and log position.
    std::string bad = d;
    bad.resize(bad.size() - 3);  // truncate the last BIGINT
    try {
        dec.decode(make_event(kDeleteRowsV2, bad, true, 4242));
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_EQ(what.rfind("table app.t column id: ", 0), 0u) << what;
        EXPECT_NE(what.find("log position 4242"), std::string::npos) << what;
    }

    // A column count that disagrees with the TABLE_MAP is fatal.
    d[10] = 4;
    EXPECT_THROW(dec.decode(make_event(kDeleteRowsV2, d, true)), Error);
}

struct ProviderCtx {
    int calls = 0;
};

bool provide(void* ctx, TableMap& map) {
    static_cast<ProviderCtx*>(ctx)->calls++;
    if (map.table != "t") {
        return false;
    }
    const char* names[] = {"id", "doc", "ts", "note", "v"};
    for (size_t i = 0; i < map.columns.size(); ++i) {
        map.columns[i].name = names[i];
    }
    map.columns[0].is_key = true;
    map.has_names = true;
    return true;
}

TEST_F(BinlogEventMysql, MetadataProviderFillsMissingNames) {
    ProviderCtx ctx;
    dec.set_metadata_provider(provide, &ctx);
    // The same TABLE_MAP without optional metadata (binlog_row_metadata=MINIMAL).
    std::string body = mysql_table_map_body();
    body.resize(6 + 2 + 8 + 1 + 5 + 5 + 1);
    auto ev = dec.decode(make_event(kTableMapEvent, body, true));
    EXPECT_EQ(ctx.calls, 1);
    const TableMap& m = *as<TableMapEvent>(ev).map;
    EXPECT_TRUE(m.has_names);
    EXPECT_EQ(m.columns[3].name, "note");
    EXPECT_TRUE(m.columns[0].is_key);
    // With names logged, the provider is not asked.
    dec.decode(make_event(kTableMapEvent, mysql_table_map_body(), true));
    EXPECT_EQ(ctx.calls, 1);
}

TEST_F(BinlogEventMysql, MariadbGtidListFlagsMasked) {
    // Gtid_list_log_event: count u32 (top 4 bits are flags), then (domain u32, server u32,
    // seq u64) per entry.
    std::string b;
    put_le(b, 2 | (1u << 28), 4);
    put_le(b, 0, 4);
    put_le(b, 1, 4);
    put_le(b, 100, 8);
    put_le(b, 5, 4);
    put_le(b, 2, 4);
    put_le(b, 7, 8);
    auto ev = dec.decode(make_event(kMariadbGtidListEvent, b, true));
    EXPECT_EQ(as<MariadbGtidListEvent>(ev).list.str(), "0-1-100,5-2-7");
}

}  // namespace
}  // namespace rep::mysql
