#pragma once

#include "source/mysql/gtid_set.h"

#include <cstdint>
#include <string>

namespace rep::mysql {

// The payload of MySQL's COM_BINLOG_DUMP_GTID (command byte 0x1e, not included), as MySQL's
// protocol documentation lays it out:
//   int<2> flags, int<4> server_id, int<4> binlog-filename-len, string binlog-filename,
//   int<8> binlog-pos, and, when flags has BINLOG_THROUGH_GTID (0x04):
//   int<4> data-size, data = MysqlGtidSet::encode().
// We always send an empty file name, position 4 and BINLOG_THROUGH_GTID, so the server
// starts with the first transaction not in `executed`.
std::string com_binlog_dump_gtid_payload(uint32_t server_id, const MysqlGtidSet& executed,
                                         uint16_t extra_flags = 0);

}  // namespace rep::mysql
