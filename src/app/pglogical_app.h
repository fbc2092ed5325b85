#pragma once

#include "app/runner.h"

#include <string>

namespace rep {

// `replicator pglogical`: the common settings plus the PostgreSQL source's.
struct PglogicalConfig : CommonConfig {
    PglogicalConfig() { parallelism = 16; }  // MOLT Replicator's default
    std::string source_conn;
    std::string slot_name = "replicator";
    std::string publication_name;
    bool create_slot_and_publication = false;
    Duration standby_timeout = std::chrono::seconds(5);
    bool allow_streaming = true;
};

// Replicates a PostgreSQL source through a pgoutput slot (see docs/architecture.md).
// Returns the exit status; throws rep::Error.
int run_pglogical(const PglogicalConfig& config);

}  // namespace rep
