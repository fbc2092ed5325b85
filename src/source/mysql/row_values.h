#pragma once

#include "core/mutation.h"
#include "source/mysql/binlog_event.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace rep::mysql {

// Renders one column value of a row image as PostgreSQL input text, reading it at `data`
// (little-endian, as the binlog stores it; DECIMAL, DATETIME2, TIME2 and TIMESTAMP2 are
// big-endian per MySQL's formats). Returns the number of bytes consumed.
//
// Renderings (what the target column, typed per the documented mapping, accepts):
//   integers (signed/unsigned by TableColumn::is_unsigned; BIGINT UNSIGNED up to 2^64-1) -> decimal
//   DECIMAL -> exact decimal digits;   FLOAT/DOUBLE -> shortest round-trip text, NaN/Infinity
//   BIT(n) -> n characters '0'/'1';   YEAR -> "0" or 1901..2155
//   DATE -> "YYYY-MM-DD";   DATETIME(fsp) -> "YYYY-MM-DD HH:MM:SS[.ffffff]"
//   TIMESTAMP(fsp) -> "YYYY-MM-DD HH:MM:SS[.ffffff]+00" (UTC, whatever the session zone)
//   TIME(fsp) -> "[-]HHH:MM:SS[.ffffff]" (negative and over 24 h allowed: target interval)
//   CHAR/VARCHAR/TEXT -> UTF-8 text, converted from the column's character set (charsets.h)
//   BINARY/VARBINARY/BLOB (collation 63) -> "\x" + hex (bytea input), every byte exact
//   ENUM -> the label;   SET -> comma-separated members;   JSON -> JSON text
// Zero dates follow ValueOptions::zero_date. Throws rep::Error (fatal) naming table and
// column for values it cannot render (unknown type, bad length, zero date under kError, text
// that is not valid in its character set).
size_t decode_value(const TableMap& map, size_t column, const ValueOptions& options,
                    const uint8_t* data, size_t available, Datum& out);

// Bytes a value of this column occupies in the row image, without rendering it.
size_t value_length(const TableColumn& column, const uint8_t* data, size_t available);

// Parses a TABLE_MAP body (after the 19-byte header; without checksum) including the optional
// metadata block (MySQL 8 / MariaDB 10.5+: signedness, default/column charsets, column names,
// SET/ENUM values, simple and prefixed primary keys). `post_header_len` is 6 or 8 (table id
// width) per the FORMAT_DESCRIPTION. Throws rep::Error on malformed input.
TableMap parse_table_map(std::string_view body, size_t table_id_size = 6);

}  // namespace rep::mysql
