#pragma once

#include "base/duration.h"
#include "source/source.h"

#include <filesystem>
#include <memory>
#include <string>

namespace rep::pg {

// The flags of `replicator pglogical` that belong to its source (docs/pglogical.md).
struct PglogicalConfig {
    std::string source_conn;
    std::string slot_name = "replicator";
    std::string publication_name;
    bool create_slot_and_publication = false;
    Duration standby_timeout = std::chrono::seconds(5);
    bool allow_streaming = true;
    // --acceptDataLoss: start although the slot is ahead of the checkpoint (changes between
    // them are gone).
    bool accept_data_loss = false;
    // Where streamed transactions are spooled (<--dataDir>/pglogical-spool).
    std::filesystem::path spool_dir = "replicator-data/pglogical-spool";
};

// The staging memo key of pglogical's checkpoint: "pglogical-wal-offset-<--targetSchema as
// given>", MOLT Replicator's key (docs/staging.md §3.1).
std::string pglogical_memo_key(const SchemaRef& target_schema);

// A PostgreSQL source read through a pgoutput logical replication slot.
std::unique_ptr<source::Source> make_pglogical_source(const PglogicalConfig& config);

}  // namespace rep::pg
