#include "source/mysql/binlog_event.h"

#include "base/error.h"
#include "source/mysql/le_reader.h"
#include "source/mysql/row_values.h"

#include <fmt/format.h>

#include <cstdio>
#include <zlib.h>

namespace rep::mysql {
namespace {

constexpr size_t kHeaderLen = 19;
constexpr size_t kChecksumLen = 4;
constexpr size_t kTableIdLen = 6;
constexpr uint16_t kStmtEndFlag = 0x0001;  // Rows_log_event::STMT_END_F
constexpr uint8_t kMariadbStandalone = 1;  // Gtid_log_event::FL_STANDALONE
constexpr uint8_t kChecksumAlgCrc32 = 1;   // BINLOG_CHECKSUM_ALG_CRC32
constexpr size_t kServerVersionLen = 50;   // ST_SERVER_VER_LEN

// Every overrun while reading an event is a fatal error that names the event.
class Reader : public LeReader {
public:
    Reader(std::string_view buf, const EventHeader& h)
        : LeReader(buf, fmt::format("binlog event type {} at log position {}", h.type, h.log_pos)) {
    }
};

uint32_t read_u32(std::string_view s, size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
        v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
    }
    return v;
}

uint32_t crc32_of(std::string_view s) {
    return static_cast<uint32_t>(
        ::crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// Whether a server of this version writes the checksum algorithm byte (and 4 checksum bytes) in
// its FORMAT_DESCRIPTION: MySQL 5.6.1+, MariaDB 5.3+.
bool checksum_aware(const std::string& version) {
    int major = 0;
    int minor = 0;
    int patch = 0;
    if (std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch) < 2) {
        return false;
    }
    bool mariadb = version.find("MariaDB") != std::string::npos;
    int v = major * 10000 + minor * 100 + patch;
    return v >= (mariadb ? 50300 : 50601);
}

// MySQL's Gtid_log_event (and Anonymous_gtid_log_event) body.
MysqlGtid decode_mysql_gtid(Reader& r) {
    MysqlGtid g;
    r.u8();  // commit flag
    auto sid = r.bytes(16);
    for (size_t i = 0; i < 16; ++i) {
        g.uuid[i] = static_cast<uint8_t>(sid[i]);
    }
    g.gno = r.u64();
    if (r.remaining() < 1 + 16) {
        return g;
    }
    uint8_t lt_type = r.u8();
    if (lt_type == 2) {  // LOGICAL_TIMESTAMP_TYPECODE: last_committed, sequence_number
        r.skip(16);
    }
    if (r.remaining() >= 7) {
        // immediate_commit_timestamp (7 bytes); its bit 55 says original_commit_timestamp follows,
        // otherwise the transaction originated on the immediate source and both are equal.
        uint64_t immediate = r.le(7);
        constexpr uint64_t kOriginalFollows = uint64_t{1} << 55;
        uint64_t original = immediate;
        if ((immediate & kOriginalFollows) != 0) {
            original = r.le(7);
        }
        g.original_commit_time_us = static_cast<int64_t>(original & ~kOriginalFollows);
    }
    return g;
}

}  // namespace

DecodedEvent BinlogDecoder::decode(std::string_view event) {
    DecodedEvent out;
    EventHeader& h = out.header;
    if (event.size() < kHeaderLen) {
        throw fatal(fmt::format("malformed binlog event: {} bytes, shorter than the {}-byte header",
                                event.size(), kHeaderLen));
    }
    {
        Reader hr(event.substr(0, kHeaderLen), h);
        h.timestamp = hr.u32();
        h.type = hr.u8();
        h.server_id = hr.u32();
        h.event_size = hr.u32();
        h.log_pos = hr.u32();
        h.flags = hr.u16();
    }
    Reader whole(event, h);
    if (h.event_size != event.size()) {
        whole.fail(
            fmt::format("header says {} bytes but the event has {}", h.event_size, event.size()));
    }

    std::string_view body = event.substr(kHeaderLen);
    bool verify = checksum_;
    if (h.type == kFormatDescriptionEvent) {
        // The FORMAT_DESCRIPTION says itself whether checksums are on: a checksum-aware server
        // ends it with the algorithm byte and 4 checksum bytes, whatever the setting.
        Reader r(body, h);
        FormatDescription fd;
        fd.binlog_version = r.u16();
        std::string_view ver = r.bytes(kServerVersionLen);
        fd.server_version = std::string(ver.substr(0, ver.find('\0')));
        bool has_alg = checksum_aware(fd.server_version);
        if (has_alg && body.size() >= kServerVersionLen + 2 + 4 + 1 + 1 + kChecksumLen) {
            auto alg = static_cast<uint8_t>(body[body.size() - kChecksumLen - 1]);
            fd.checksum_crc32 = alg == kChecksumAlgCrc32;
        }
        verify = fd.checksum_crc32;
        if (verify) {
            uint32_t want = read_u32(event, event.size() - kChecksumLen);
            uint32_t got = crc32_of(event.substr(0, event.size() - kChecksumLen));
            if (want != got) {
                whole.fail(fmt::format(
                    "CRC32 checksum mismatch (event says {:08x}, computed {:08x})", want, got));
            }
        }
        checksum_ = fd.checksum_crc32;
        out.event = std::move(fd);
        return out;
    }
    if (verify) {
        if (body.size() < kChecksumLen) {
            whole.fail("too short for its CRC32 checksum");
        }
        uint32_t want = read_u32(event, event.size() - kChecksumLen);
        uint32_t got = crc32_of(event.substr(0, event.size() - kChecksumLen));
        if (want != got) {
            whole.fail(fmt::format("CRC32 checksum mismatch (event says {:08x}, computed {:08x})",
                                   want, got));
        }
        body.remove_suffix(kChecksumLen);
    } else if (h.type == kRotateEvent && body.size() >= 8 + kChecksumLen &&
               read_u32(event, event.size() - kChecksumLen) ==
                   crc32_of(event.substr(0, event.size() - kChecksumLen))) {
        // The artificial ROTATE a server sends first comes before any FORMAT_DESCRIPTION, so
        // whether it carries a checksum is not known yet; a matching CRC32 says it does.
        body.remove_suffix(kChecksumLen);
    }

    Reader r(body, h);
    switch (h.type) {
        case kRotateEvent: {
            Rotate ro;
            ro.position = r.u64();
            ro.file = std::string(r.rest());
            out.event = std::move(ro);
            break;
        }
        case kQueryEvent: {
            Query q;
            r.u32();  // thread id
            r.u32();  // execution time
            size_t db_len = r.u8();
            r.u16();  // error code
            size_t status_len = r.u16();
            r.skip(status_len);
            q.database = std::string(r.bytes(db_len));
            r.u8();  // NUL after the database name
            q.sql = std::string(r.rest());
            out.event = std::move(q);
            break;
        }
        case kXidEvent:
            out.event = Xid{r.u64()};
            break;
        case kTableMapEvent: {
            TableMap map;
            try {
                map = parse_table_map(body, kTableIdLen);
            } catch (const Error& e) {
                whole.fail(e.what());
            }
            // Metadata of tables not replicated is not fetched: their rows are not decoded.
            if (!map.has_names && provider_ != nullptr &&
                (filter_ == nullptr || filter_(filter_ctx_, map))) {
                provider_(provider_ctx_, map);
            }
            auto shared = std::make_shared<const TableMap>(std::move(map));
            tables_[shared->table_id] = shared;
            out.event = TableMapEvent{std::move(shared)};
            break;
        }
        case kWriteRowsV1:
        case kUpdateRowsV1:
        case kDeleteRowsV1:
        case kWriteRowsV2:
        case kUpdateRowsV2:
        case kDeleteRowsV2: {
            bool v2 = h.type >= kWriteRowsV2;
            int kind = v2 ? h.type - kWriteRowsV2 : h.type - kWriteRowsV1;
            RowsEvent rows;
            rows.op = kind == 0 ? 'I' : kind == 1 ? 'U' : 'D';
            uint64_t table_id = r.le(kTableIdLen);
            uint16_t flags = r.u16();
            rows.end_of_statement = (flags & kStmtEndFlag) != 0;
            if (v2) {
                // extra_row_info: its length counts its own 2 bytes.
                uint16_t extra = r.u16();
                if (extra < 2) {
                    r.fail(fmt::format("extra data length {} below 2", extra));
                }
                r.skip(extra - 2u);
            }
            auto it = tables_.find(table_id);
            if (it == tables_.end()) {
                r.fail(fmt::format("rows event for table id {} without a preceding TABLE_MAP",
                                   table_id));
            }
            rows.map = it->second;
            const TableMap& map = *rows.map;
            if (filter_ != nullptr && !filter_(filter_ctx_, map)) {
                out.event = std::move(rows);
                break;
            }
            uint64_t ncols = r.packed();
            if (ncols != map.columns.size()) {
                r.fail(fmt::format("rows event has {} columns but the TABLE_MAP of {}.{} has {}",
                                   ncols, map.database, map.table, map.columns.size()));
            }
            size_t bitmap_len = (ncols + 7) / 8;
            std::string_view present_before = r.bytes(bitmap_len);
            std::string_view present_after = rows.op == 'U' ? r.bytes(bitmap_len) : present_before;
            auto bit = [](std::string_view bm, size_t i) {
                return ((static_cast<uint8_t>(bm[i / 8]) >> (i % 8)) & 1) != 0;
            };
            auto read_image = [&](std::string_view present) {
                size_t npresent = 0;
                for (size_t i = 0; i < ncols; ++i) {
                    npresent += bit(present, i) ? 1 : 0;
                }
                std::string_view nulls = r.bytes((npresent + 7) / 8);
                std::vector<Datum> row(ncols);
                size_t k = 0;
                for (size_t i = 0; i < ncols; ++i) {
                    if (!bit(present, i)) {
                        continue;  // Datum defaults to kAbsent
                    }
                    if (bit(nulls, k++)) {
                        row[i] = Datum::null();
                        continue;
                    }
                    size_t n = decode_value(map, i, options_, r.ptr(), r.remaining(), row[i]);
                    r.skip(n);
                }
                return row;
            };
            try {
                while (!r.done()) {
                    if (rows.op == 'I') {
                        rows.after.push_back(read_image(present_before));
                    } else if (rows.op == 'D') {
                        rows.before.push_back(read_image(present_before));
                    } else {
                        rows.before.push_back(read_image(present_before));
                        rows.after.push_back(read_image(present_after));
                    }
                }
            } catch (const Error& e) {
                // Value errors name table and column; add where in the binlog the row is.
                if (std::string_view(e.what()).starts_with("malformed binlog event")) {
                    throw;
                }
                throw fatal(fmt::format("{} (rows event type {} at log position {})", e.what(),
                                        h.type, h.log_pos));
            }
            out.event = std::move(rows);
            break;
        }
        case kGtidEvent:
        case kAnonymousGtidEvent:
            out.event = decode_mysql_gtid(r);
            break;
        case kPreviousGtidsEvent: {
            auto set = MysqlGtidSet::decode(body);
            if (!set) {
                r.fail("undecodable GTID set");
            }
            out.event = PreviousGtids{std::move(*set)};
            break;
        }
        case kMariadbGtidEvent: {
            MariadbGtid g;
            g.gtid.seq = r.u64();
            g.gtid.domain = r.u32();
            g.gtid.server = h.server_id;
            uint8_t flags = r.u8();
            g.standalone = (flags & kMariadbStandalone) != 0;
            out.event = g;
            break;
        }
        case kMariadbGtidListEvent: {
            MariadbGtidListEvent gl;
            uint32_t count = r.u32() & 0x0FFFFFFF;  // high 4 bits are flags
            for (uint32_t i = 0; i < count; ++i) {
                MariadbGtidList::Gtid g{};
                g.domain = r.u32();
                g.server = r.u32();
                g.seq = r.u64();
                gl.list.add(g);
            }
            out.event = std::move(gl);
            break;
        }
        case kHeartbeatEvent:
        case kHeartbeatV2Event:
            out.event = Heartbeat{};
            break;
        default:
            out.event = OtherEvent{h.type};
            break;
    }
    return out;
}

}  // namespace rep::mysql
