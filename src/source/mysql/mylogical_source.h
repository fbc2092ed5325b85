#pragma once

#include "source/mysql/binlog_event.h"
#include "source/source.h"

#include <cstdint>
#include <memory>
#include <string>

namespace rep::mysql {

// The flags of `replicator mylogical` that belong to its source (docs/mylogical.md).
struct MylogicalConfig {
    std::string source_conn;       // mysql://user:pass@host:port/db?sslmode=...
    std::string default_gtid_set;  // first run only
    bool fetch_metadata = false;
    uint32_t replication_process_id = 10;
    // --acceptDataLoss: start after transactions whose binary logs are purged (lost).
    bool accept_data_loss = false;
    ValueOptions values;
};

// The staging memo key of mylogical's checkpoint: "mysql-wal-offset-<--targetSchema as
// given>" (docs/staging.md §3.2).
std::string mylogical_memo_key(const SchemaRef& target_schema);

// A MySQL or MariaDB source read from its binary log with GTIDs. Throws rep::Error (fatal)
// if the connection URL is malformed.
std::unique_ptr<source::Source> make_mylogical_source(const MylogicalConfig& config);

}  // namespace rep::mysql
