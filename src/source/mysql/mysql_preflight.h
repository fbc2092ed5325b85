#pragma once

#include "core/source_layout.h"
#include "source/mysql/binlog_conn.h"

#include <string>
#include <vector>

namespace rep::mysql {

// What preflight learned about the source server.
struct ServerState {
    bool mariadb = false;
    std::string executed;  // @@gtid_executed (MySQL) or @@gtid_binlog_pos (MariaDB)
    std::string purged;    // GTIDs no binary log holds any more (empty: none known)
    // The base tables of the replicated database (of every user database without one in the
    // URL), bare names.
    std::vector<std::string> tables;
    std::vector<SourceLayout> layouts;  // their columns, for the target preflight
};

// Checks the server's binary log settings and the user's privileges, failing with the
// statement that fixes each problem (docs/mylogical.md §3): log_bin, binlog_format=ROW,
// binlog_row_image=FULL, gtid_mode=ON (MySQL), binlog_row_metadata=FULL unless
// `fetch_metadata`, and the right to read the binary log. Throws rep::Error.
ServerState preflight_source(const MysqlUrl& url, bool fetch_metadata);

// Checks that streaming can start after `start` (GTID text; empty: from the oldest binary
// log): it is of the server's flavour, parses, and no transaction after it is purged, and
// returns where to start. With `accept_data_loss` purged transactions are skipped instead
// (the returned position includes them). `origin` says where `start` came from, for the
// message. Throws rep::Error (fatal).
std::string check_start(const ServerState& server, const std::string& start,
                        const std::string& origin, bool accept_data_loss);

}  // namespace rep::mysql
