#pragma once

#include "core/source_layout.h"
#include "core/table_name.h"
#include "target/dialect.h"
#include "target/table_catalog.h"
#include "util/target_session.h"

#include <string>
#include <vector>

namespace rep::target {

// The target preflight: every table the source sends, checked against its target table once
// at start-up, before any row is written, so that an operator sees every problem at once
// instead of one per restart. Each problem is one line naming the table (and column) and the
// fix:
//  - the target table is missing;
//  - the layouts do not fit (TableMapping: a source column the target lacks, no primary key,
//    a source key the target key does not cover, a CockroachDB table keyed by rowid);
//  - on CockroachDB, a GENERATED ALWAYS identity column the source writes;
//  - with `check_types`, a column whose source type has a text form that only a column of the
//    same type or a string column takes (SourceLayout::families), into any other column.
// Problems the apply path would only meet at a table's first change; it still checks them
// there (a table may change after start-up).
std::vector<std::string> check_target_schema(util::TargetSession& session, const Dialect& dialect,
                                             const SchemaRef& schema,
                                             const std::vector<SourceLayout>& layouts,
                                             const TableCatalog::Loader& load, bool check_types);

// Whether values of a source type of family `family` (SourceLayout::families, non-empty)
// spelled `source_type` fit a target column cast as `target_cast` (TargetColumn::cast_type).
bool column_takes(const std::string& family, const std::string& source_type,
                  const std::string& target_cast);

}  // namespace rep::target
