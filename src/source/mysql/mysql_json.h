#pragma once

#include <string>
#include <string_view>

namespace rep::mysql {

// Decodes MySQL's binary JSON format (the JSON column type in row events, MySQL 5.7+; see
// MySQL's json_binary.h: type byte, then small/large objects and arrays with key/value entry
// tables, inlined literals and small integers, int16..uint64, double, utf8mb4 strings with
// variable-length sizes, and opaque values for DATE/TIME/DATETIME/DECIMAL...) into JSON text
// that PostgreSQL's jsonb input accepts. An empty input is the JSON null (MySQL writes
// a zero-length value for JSON NULL literal in some versions).
// Throws rep::Error (fatal) naming the offset on malformed input.
std::string mysql_json_to_text(std::string_view binary);

}  // namespace rep::mysql
