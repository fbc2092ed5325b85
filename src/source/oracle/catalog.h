#pragma once

#include "source/oracle/oci_session.h"
#include "source/oracle/redo_mutation.h"

#include <map>
#include <string>

namespace rep::oracle {

// Start-up checks of the database (reference §3.9) on the CDB session: archive log mode and
// minimal supplemental logging are required (without them LogMiner has nothing to read, or
// rows it cannot key), each a fatal error with the statement that fixes it; missing
// database-wide primary key logging is a warning (it may be enabled per table).
void check_database(OciSession& cdb);

// The PDB's name as SRC_CON_NAME shows it.
std::string container_name(OciSession& pdb);

// The tables of `schema` with their columns, types and primary keys, by Oracle table name.
// Their relations are named for the target by fold_name (redo_mutation.h). Throws rep::Error
// (fatal) for a schema without tables or a table without a primary key.
// REPLICATOR_SENTINEL is left out (it is never replicated); `sentinel` says whether it exists.
std::map<std::string, OracleTable> read_catalog(OciSession& session, const std::string& schema,
                                                bool* sentinel);

}  // namespace rep::oracle
