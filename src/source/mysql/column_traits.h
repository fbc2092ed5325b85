#pragma once

#include "source/mysql/binlog_event.h"

#include <cstdint>

namespace rep::mysql {

// Collation id of binary strings (BINARY, VARBINARY, BLOB): bytes, not text.
inline constexpr uint32_t kBinaryCollation = 63;

// The type that decides how a column is stored: for CHAR columns the metadata tells whether it
// really is an ENUM or SET.
inline uint8_t effective_type(const TableColumn& c) {
    if (c.type == kString && c.real_type != 0) {
        return c.real_type;
    }
    return c.type;
}

}  // namespace rep::mysql
