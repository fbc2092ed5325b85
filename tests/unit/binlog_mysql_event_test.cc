#include "base/error.h"
#include "source/mysql/binlog_event.h"

#include "binlog_test_util.h"
#include "capture_file.h"
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

// MySQL-only events, hand-built byte for byte from MySQL's documented formats (no MySQL server
// can be run here).

namespace rep::mysql {
namespace {

using namespace rep::mysql::test_util;

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
// A DELETE_ROWS v2 body of table 91 deleting keys 1 and 2 (the key column only); the second
// key takes `last_width` bytes (8 for a whole BIGINT, fewer to cut it short).
std::string delete_two_keys(size_t last_width = 8) {
    std::string d;
    put_le(d, 91, 6);
    put_le(d, 1, 2);
    put_le(d, 2, 2);
    d.push_back(5);
    d.push_back(0x01);
    d.push_back(0x00);
    put_le(d, 1, 8);
    d.push_back(0x00);
    put_le(d, 2, last_width);
    return d;
}

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
    std::string d = delete_two_keys();
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

// Tables the reader does not replicate: their metadata is not fetched and their rows are not
// decoded (a value there that cannot be rendered stops nothing).
TEST_F(BinlogEventMysql, TablesNotReplicatedAreNeitherDescribedNorDecoded) {
    ProviderCtx ctx;
    dec.set_metadata_provider(provide, &ctx);
    dec.set_table_filter([](void*, const TableMap& map) { return map.database != "app"; }, nullptr);
    std::string body = mysql_table_map_body();
    body.resize(6 + 2 + 8 + 1 + 5 + 5 + 1);
    auto ev = dec.decode(make_event(kTableMapEvent, body, true));
    EXPECT_EQ(ctx.calls, 0);
    EXPECT_FALSE(as<TableMapEvent>(ev).map->has_names);
    // DELETE_ROWS v2 of that table whose second row is cut short: no error, no rows.
    std::string d = delete_two_keys(4);
    auto rows = dec.decode(make_event(kDeleteRowsV2, d, true));
    EXPECT_EQ(as<RowsEvent>(rows).map->database, "app");
    EXPECT_TRUE(as<RowsEvent>(rows).before.empty());
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
