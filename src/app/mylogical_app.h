#pragma once

#include "app/runner.h"
#include "source/mysql/binlog_event.h"

#include <cstdint>
#include <string>

namespace rep {

// `replicator mylogical`: the common settings plus the MySQL/MariaDB source's.
struct MylogicalConfig : CommonConfig {
    std::string source_conn;       // mysql://user:pass@host:port/db?sslmode=...
    std::string default_gtid_set;  // first run only
    bool fetch_metadata = false;
    uint32_t replication_process_id = 10;
    mysql::ValueOptions values;
};

// Replicates a MySQL or MariaDB source from its binary log with GTIDs (docs/mylogical.md).
// Returns the exit status; throws rep::Error.
int run_mylogical(const MylogicalConfig& config);

}  // namespace rep
