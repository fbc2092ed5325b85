// TABLE_MAP events: the table's columns, their type metadata and the optional metadata block
// (names, signedness, charsets, ENUM/SET labels, primary key) that row events are decoded with.

#include "base/error.h"
#include "source/mysql/column_traits.h"
#include "source/mysql/le_reader.h"
#include "source/mysql/row_values.h"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace rep::mysql {
namespace {

// Optional metadata field types of a TABLE_MAP (MySQL's
// Table_map_event::Optional_metadata_field_type).
enum OptionalMeta : uint8_t {
    kSignedness = 1,
    kDefaultCharset = 2,
    kColumnCharset = 3,
    kColumnName = 4,
    kSetStrValue = 5,
    kEnumStrValue = 6,
    kGeometryType = 7,
    kSimplePrimaryKey = 8,
    kPrimaryKeyWithPrefix = 9,
    kEnumAndSetDefaultCharset = 10,
    kEnumAndSetColumnCharset = 11,
    kColumnVisibility = 12,
};

// Reads a TABLE_MAP body; every overrun is a fatal error that says where.
class Reader : public LeReader {
public:
    explicit Reader(std::string_view buf) : LeReader(buf, "TABLE_MAP event") {}
};

// MySQL's is_numeric_type (libbinlogevents table_map_event): the columns SIGNEDNESS covers.
bool is_numeric(const TableColumn& c) {
    switch (c.type) {
        case kTiny:
        case kShort:
        case kInt24:
        case kLong:
        case kLongLong:
        case kNewDecimal:
        case kFloat:
        case kDouble:
            return true;
        default:
            return false;
    }
}

// MySQL's is_character_type over the real type: CHAR, VARCHAR and BLOB/TEXT (binary ones
// included, with collation 63); not ENUM/SET (they have their own charset fields), JSON or
// GEOMETRY.
bool is_character(const TableColumn& c) {
    switch (effective_type(c)) {
        case kString:
        case kVarString:
        case kVarchar:
        case kBlob:
            return true;
        default:
            return false;
    }
}

bool is_enum_or_set(const TableColumn& c) {
    uint8_t t = effective_type(c);
    return t == kEnum || t == kSet;
}

// Reads the per-type metadata of one column (Table_map_log_event::save_field_metadata).
void read_type_metadata(Reader& r, TableColumn& c) {
    switch (c.type) {
        case kFloat:
        case kDouble:
        case kBlob:
        case kTinyBlob:
        case kMediumBlob:
        case kLongBlob:
        case kJson:
        case kGeometry:
        case kTimestamp2:
        case kDateTime2:
        case kTime2:
            c.meta = r.u8();
            break;
        case kVarchar:
        case kVarString:
        case kBit:
            c.meta = static_cast<uint16_t>(r.le(2));
            break;
        case kNewDecimal: {
            uint8_t precision = r.u8();
            uint8_t scale = r.u8();
            c.meta = static_cast<uint16_t>((precision << 8) | scale);
            break;
        }
        case kString:
        case kEnum:
        case kSet: {
            // Byte 0 is the real type with bits 8-9 of the maximum length folded into bits 4-5
            // (XORed), byte 1 the low 8 bits of the length (Field_string::save_field_metadata).
            uint8_t byte0 = r.u8();
            uint8_t byte1 = r.u8();
            if ((byte0 & 0x30) != 0x30) {
                c.real_type = static_cast<uint8_t>(byte0 | 0x30);
                c.meta = static_cast<uint16_t>(byte1 | (((byte0 & 0x30) ^ 0x30) << 4));
            } else {
                c.real_type = byte0;
                c.meta = byte1;
            }
            break;
        }
        default:
            break;
    }
}

// Bits of a bitmap, most significant bit of the first byte first (optional metadata order).
bool msb_bit(std::string_view bitmap, size_t i) {
    return i / 8 < bitmap.size() && (static_cast<uint8_t>(bitmap[i / 8]) & (0x80 >> (i % 8))) != 0;
}

std::vector<TableColumn*> select(TableMap& map, bool (*pred)(const TableColumn&)) {
    std::vector<TableColumn*> out;
    for (auto& c : map.columns) {
        if (pred(c)) {
            out.push_back(&c);
        }
    }
    return out;
}

void read_default_charset(Reader& f, const std::vector<TableColumn*>& cols) {
    auto def = static_cast<uint32_t>(f.packed());
    for (auto* c : cols) {
        c->collation = def;
    }
    while (!f.done()) {
        uint64_t idx = f.packed();
        auto coll = static_cast<uint32_t>(f.packed());
        if (idx >= cols.size()) {
            f.fail(fmt::format("charset for character column {} of {}", idx, cols.size()));
        }
        cols[idx]->collation = coll;
    }
}

void read_column_charset(Reader& f, const std::vector<TableColumn*>& cols) {
    for (auto* c : cols) {
        if (f.done()) {
            break;
        }
        c->collation = static_cast<uint32_t>(f.packed());
    }
}

void read_str_values(Reader& f, const std::vector<TableColumn*>& cols, bool is_enum) {
    for (auto* c : cols) {
        if (f.done()) {
            break;
        }
        uint64_t n = f.packed();
        auto& values = is_enum ? c->enum_values : c->set_values;
        values.clear();
        for (uint64_t i = 0; i < n; ++i) {
            values.emplace_back(f.bytes(f.packed()));
        }
    }
}

void read_optional_metadata(Reader& r, TableMap& map) {
    while (!r.done()) {
        uint8_t type = r.u8();
        uint64_t len = r.packed();
        Reader f(r.bytes(len));
        switch (type) {
            case kSignedness: {
                std::string_view bits = f.rest();
                size_t i = 0;
                for (auto& c : map.columns) {
                    if (is_numeric(c)) {
                        c.is_unsigned = msb_bit(bits, i++);
                    }
                }
                break;
            }
            case kDefaultCharset:
                read_default_charset(f, select(map, is_character));
                break;
            case kColumnCharset:
                read_column_charset(f, select(map, is_character));
                break;
            case kEnumAndSetDefaultCharset:
                read_default_charset(f, select(map, is_enum_or_set));
                break;
            case kEnumAndSetColumnCharset:
                read_column_charset(f, select(map, is_enum_or_set));
                break;
            case kColumnName:
                for (auto& c : map.columns) {
                    if (f.done()) {
                        break;
                    }
                    c.name = std::string(f.bytes(f.packed()));
                }
                break;
            case kSetStrValue:
                read_str_values(
                    f, select(map, [](const TableColumn& c) { return effective_type(c) == kSet; }),
                    false);
                break;
            case kEnumStrValue:
                read_str_values(
                    f, select(map, [](const TableColumn& c) { return effective_type(c) == kEnum; }),
                    true);
                break;
            case kSimplePrimaryKey:
                while (!f.done()) {
                    uint64_t idx = f.packed();
                    if (idx >= map.columns.size()) {
                        f.fail(fmt::format("primary key column {} of {}", idx, map.columns.size()));
                    }
                    map.columns[idx].is_key = true;
                }
                break;
            case kPrimaryKeyWithPrefix:
                while (!f.done()) {
                    uint64_t idx = f.packed();
                    f.packed();  // prefix length
                    if (idx >= map.columns.size()) {
                        f.fail(fmt::format("primary key column {} of {}", idx, map.columns.size()));
                    }
                    map.columns[idx].is_key = true;
                }
                break;
            case kGeometryType:
            case kColumnVisibility:
            default:
                break;  // not needed; unknown fields are skippable by design
        }
    }
}

}  // namespace

TableMap parse_table_map(std::string_view body, size_t table_id_size) {
    Reader r(body);
    TableMap map;
    map.table_id = r.le(table_id_size);
    r.le(2);  // flags
    size_t db_len = r.u8();
    map.database = std::string(r.bytes(db_len));
    r.u8();  // NUL
    size_t table_len = r.u8();
    map.table = std::string(r.bytes(table_len));
    r.u8();  // NUL
    uint64_t ncols = r.packed();
    if (ncols > body.size()) {
        r.fail(fmt::format("column count {} exceeds the event", ncols));
    }
    std::string_view types = r.bytes(ncols);
    map.columns.resize(ncols);
    for (size_t i = 0; i < ncols; ++i) {
        map.columns[i].type = static_cast<uint8_t>(types[i]);
    }
    uint64_t meta_len = r.packed();
    Reader meta(r.bytes(meta_len));
    for (auto& c : map.columns) {
        read_type_metadata(meta, c);
    }
    if (!meta.done()) {
        r.fail(fmt::format("column metadata has {} bytes, {} used", meta_len, meta.pos()));
    }
    std::string_view nulls = r.bytes((ncols + 7) / 8);
    for (size_t i = 0; i < ncols; ++i) {
        map.columns[i].nullable = (static_cast<uint8_t>(nulls[i / 8]) >> (i % 8)) & 1;
    }
    read_optional_metadata(r, map);
    map.has_names = !map.columns.empty();
    for (const auto& c : map.columns) {
        if (c.name.empty()) {
            map.has_names = false;
        }
    }
    return map;
}

}  // namespace rep::mysql
