#pragma once

#include "source/source.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rep::oracle {

// The flags of `replicator oraclelogminer` that belong to its source
// (docs/oraclelogminer.md), and the staging connection it keeps `_oracle_checkpoint` on.
struct OracleConfig {
    std::string source_conn;      // --sourceConn: CDB$ROOT (or the only database)
    std::string source_pdb_conn;  // --sourcePDBConn: the PDB holding the schema, if any
    std::string source_schema;    // --sourceSchema, as Oracle stores it (upper case)
    std::optional<uint64_t> scn;  // --scn: the snapshot's SCN, first run only
    std::optional<uint64_t> backfill_from_scn;  // --backfillFromSCN, first run only
    int64_t scn_window_size = 3250;             // --scnWindowSize; <= 0: no cap
    std::string client_lib_dir;                 // --oracleClientLibDir
    // --oracle-application-users: whose open transactions a first run without
    // --backfillFromSCN starts before (empty: every session's).
    std::vector<std::string> application_users;
    // --transactionBufferBytes: open transactions' events held in memory before the largest
    // move to spill_dir (<--dataDir>/oracle-spill).
    size_t transaction_buffer_bytes = 256U << 20;
    std::filesystem::path spill_dir;
    // From the common flags: where `_oracle_checkpoint` lives (--stagingConn, or the
    // target).
    std::string staging_conn;
};

// The staging memo key of the commit position: "oraclelogminer-scn-<--targetSchema>".
std::string oracle_memo_key(const SchemaRef& target_schema);

// An Oracle source read through LogMiner. Throws rep::Error (exit status 2) if a connection
// URL is malformed.
std::unique_ptr<source::Source> make_oracle_source(const OracleConfig& config);

}  // namespace rep::oracle
