#pragma once

#include "core/source_layout.h"
#include "util/pg_conn.h"

#include <string>
#include <vector>

namespace rep::pg {

// The layouts of the publication's tables as pgoutput will announce them: the columns it
// publishes (not dropped, not generated, within the publication's column list on PostgreSQL
// 15 and later), in table order, flagged as key as the table's replica identity says, with
// each column's type and the family of types that have no counterpart in most targets
// (SourceLayout::families).
std::vector<SourceLayout> read_source_layouts(util::PgConn& conn, const std::string& publication,
                                              int server_version);

}  // namespace rep::pg
