#pragma once

#include "core/mutation.h"
#include "source/mysql/gtid_set.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace rep::mysql {

// Binlog event type codes (MySQL's binlog_event.h and MariaDB's log_event.h).
enum EventType : uint8_t {
    kQueryEvent = 2,
    kStopEvent = 3,
    kRotateEvent = 4,
    kFormatDescriptionEvent = 15,
    kXidEvent = 16,
    kTableMapEvent = 19,
    kWriteRowsV1 = 23,
    kUpdateRowsV1 = 24,
    kDeleteRowsV1 = 25,
    kHeartbeatEvent = 27,
    kWriteRowsV2 = 30,
    kUpdateRowsV2 = 31,
    kDeleteRowsV2 = 32,
    kGtidEvent = 33,  // MySQL
    kAnonymousGtidEvent = 34,
    kPreviousGtidsEvent = 35,
    kPartialUpdateRowsEvent = 39,
    kTransactionPayloadEvent = 40,
    kHeartbeatV2Event = 41,
    kAnnotateRowsEvent = 160,  // MariaDB
    kBinlogCheckpointEvent = 161,
    kMariadbGtidEvent = 162,
    kMariadbGtidListEvent = 163,
    kStartEncryptionEvent = 164,
};

// MySQL column type codes as they appear in TABLE_MAP (MYSQL_TYPE_*).
enum ColumnType : uint8_t {
    kDecimal = 0,
    kTiny = 1,
    kShort = 2,
    kLong = 3,
    kFloat = 4,
    kDouble = 5,
    kNull = 6,
    kTimestamp = 7,
    kLongLong = 8,
    kInt24 = 9,
    kDate = 10,
    kTime = 11,
    kDateTime = 12,
    kYear = 13,
    kNewDate = 14,
    kVarchar = 15,
    kBit = 16,
    kTimestamp2 = 17,
    kDateTime2 = 18,
    kTime2 = 19,
    kJson = 245,
    kNewDecimal = 246,
    kEnum = 247,
    kSet = 248,
    kTinyBlob = 249,
    kMediumBlob = 250,
    kLongBlob = 251,
    kBlob = 252,
    kVarString = 253,
    kString = 254,
    kGeometry = 255,
};

// 19-byte common header of every event (little-endian).
struct EventHeader {
    uint32_t timestamp = 0;
    uint8_t type = 0;
    uint32_t server_id = 0;
    uint32_t event_size = 0;
    uint32_t log_pos = 0;  // position of the next event
    uint16_t flags = 0;
};

// One column of a TABLE_MAP, with what the optional metadata (binlog_row_metadata=FULL, or
// filled in from information_schema with --fetchMetadata) tells about it.
struct TableColumn {
    uint8_t type = 0;       // ColumnType as written in the type array
    uint8_t real_type = 0;  // for kString: kEnum, kSet or kString, from the metadata
    uint16_t meta = 0;      // type-specific metadata (lengths, precision/scale, fsp, ...)
    bool nullable = true;
    bool is_unsigned = false;
    uint32_t collation = 0;                // 63 = binary; 0 = unknown
    std::string name;                      // empty if the server did not log names
    std::vector<std::string> enum_values;  // ENUM labels, in order (index 1 = first)
    std::vector<std::string> set_values;   // SET members, bit 0 = first
    bool labels_utf8 = false;              // the labels came from information_schema
    bool is_key = false;                   // part of the primary key
};

struct TableMap {
    uint64_t table_id = 0;
    std::string database;
    std::string table;
    std::vector<TableColumn> columns;
    bool has_names = false;  // every column has a name
};

struct FormatDescription {
    uint16_t binlog_version = 0;
    std::string server_version;
    bool checksum_crc32 = false;
};
struct Rotate {
    uint64_t position = 0;
    std::string file;
};
struct MysqlGtid {
    MysqlGtidSet::Uuid uuid{};
    uint64_t gno = 0;
    int64_t original_commit_time_us = 0;  // 0 when the server did not log it (before 8.0)
};
struct MariadbGtid {
    MariadbGtidList::Gtid gtid{};
    bool standalone = false;  // no BEGIN/COMMIT follows (DDL)
};
struct PreviousGtids {
    MysqlGtidSet set;
};
struct MariadbGtidListEvent {
    MariadbGtidList list;
};
struct TableMapEvent {
    std::shared_ptr<const TableMap> map;
};
// A WRITE/UPDATE/DELETE_ROWS event decoded against its TABLE_MAP. Values are rendered as
// PostgreSQL input text (see row_values.h); a column absent from the image (not in the
// columns-present bitmap) is Datum::Kind::kAbsent.
struct RowsEvent {
    char op = 'I';  // 'I', 'U' or 'D'
    std::shared_ptr<const TableMap> map;
    std::vector<std::vector<Datum>> before;  // 'U' and 'D'
    std::vector<std::vector<Datum>> after;   // 'I' and 'U' (same length as before for 'U')
    bool end_of_statement = false;
};
struct Xid {
    uint64_t xid = 0;
};
struct Query {
    std::string database;
    std::string sql;
};
struct Heartbeat {};
struct OtherEvent {
    uint8_t type = 0;
};

using Event =
    std::variant<FormatDescription, Rotate, MysqlGtid, MariadbGtid, PreviousGtids,
                 MariadbGtidListEvent, TableMapEvent, RowsEvent, Xid, Query, Heartbeat, OtherEvent>;

struct DecodedEvent {
    EventHeader header;
    Event event;
};

// Options that change how values are rendered.
class Charsets;

struct ValueOptions {
    // What a zero or partly-zero DATE/DATETIME/TIMESTAMP ('0000-00-00') becomes: NULL (the
    // default), or an error that names table and column.
    enum class ZeroDate { kNull, kError } zero_date = ZeroDate::kNull;
    // The source's character sets (the reader's, loaded from the server); null: the ids
    // every server has (charsets.h).
    const Charsets* charsets = nullptr;
};

// Decodes binlog events. Pure: no I/O. Not thread-safe. Keeps the TABLE_MAPs seen (table id ->
// layout) because row events refer to them, and the checksum setting from the last
// FORMAT_DESCRIPTION (CRC32 checksums are verified and stripped).
class BinlogDecoder {
public:
    explicit BinlogDecoder(ValueOptions options = {}) : options_(options) {}

    // `event` is one whole event: 19-byte header, body and (if enabled) the 4-byte checksum.
    // Throws rep::Error (fatal) on a checksum mismatch or malformed event, naming the event
    // type and log position.
    DecodedEvent decode(std::string_view event);

    // Supplies column names, keys, signedness, charsets and enum/set labels for tables whose
    // TABLE_MAP lacks them (--fetchMetadata). Called with the TABLE_MAP's database/table;
    // returns false if it has nothing.
    using MetadataProvider = bool (*)(void* ctx, TableMap& map);
    void set_metadata_provider(MetadataProvider fn, void* ctx) {
        provider_ = fn;
        provider_ctx_ = ctx;
    }

    // Row events of tables this says no to come without their rows (the reader skips them):
    // values of tables not replicated are never rendered, so one that cannot be (text the
    // source cannot convert, a zero date under ZeroDate::kError) stops nothing.
    using TableFilter = bool (*)(void* ctx, const TableMap& map);
    void set_table_filter(TableFilter fn, void* ctx) {
        filter_ = fn;
        filter_ctx_ = ctx;
    }
    // The character sets values are converted with (ValueOptions::charsets).
    void set_charsets(const Charsets* charsets) { options_.charsets = charsets; }

    // Checksums: set from a FORMAT_DESCRIPTION; can be forced for fixtures.
    void set_checksum(bool crc32) { checksum_ = crc32; }
    // Forget cached table maps (after DDL or a reconnect).
    void reset_tables() { tables_.clear(); }

private:
    ValueOptions options_;
    bool checksum_ = false;
    std::unordered_map<uint64_t, std::shared_ptr<const TableMap>> tables_;
    MetadataProvider provider_ = nullptr;
    TableFilter filter_ = nullptr;
    void* filter_ctx_ = nullptr;
    void* provider_ctx_ = nullptr;
};

}  // namespace rep::mysql
