#pragma once

#include "source/mysql/binlog_conn.h"
#include "source/mysql/charsets.h"

#include <string>

namespace rep::mysql {

// Reads the server's collations (id, full name, character set, its longest character) into
// `charsets`: from information_schema.COLLATION_CHARACTER_SET_APPLICABILITY where it has ids
// (MariaDB 10.10+, whose utf8mb4_uca1400_* collations have no id in COLLATIONS), else from
// information_schema.COLLATIONS (MySQL, older MariaDB). Throws rep::Error.
void load_collations(MysqlConn& conn, Charsets& charsets);

// Asks the server to convert every sequence of one to `maxlen` bytes of `charset` to utf8mb4
// (CHAR(... USING charset), then CONVERT): every single byte, every two bytes led by a byte
// of 0x80 or more, and, for sets with 3-byte characters (ujis, eucjpms), every three bytes
// led by 0x8F (EUC-JP's single shift 3, their only 3-byte lead). About 33,000 rows, in one
// round trip; sequences the server calls invalid are left out. Throws rep::Error.
CharTable load_char_table(MysqlConn& conn, const std::string& charset, int maxlen);

}  // namespace rep::mysql
