#pragma once

#include "core/source_layout.h"
#include "source/postgres/lsn.h"

#include <string>
#include <vector>

namespace rep::pg {

struct SlotState {
    Lsn confirmed_flush;
    int server_version = 0;
    std::vector<std::string> tables;    // the publication's tables, bare names
    std::vector<SourceLayout> layouts;  // their columns (source_layouts.h)
};

// Checks the source before replication starts and fails with the SQL that fixes each problem:
// wal_level must be logical, the publication and the pgoutput slot must exist in the source
// database. With `create` set (--createSlotAndPublication), a missing publication is created
// FOR ALL TABLES and a missing slot with pgoutput; otherwise nothing is created, because the
// slot must exist before any initial bulk load so no change falls between the two.
// Throws rep::Error.
SlotState preflight_source(const std::string& conninfo, const std::string& slot,
                           const std::string& publication, bool create);

}  // namespace rep::pg
