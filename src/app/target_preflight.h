#pragma once

#include "app/config.h"
#include "core/table_name.h"
#include "source/source.h"
#include "target/dialect.h"
#include "util/target_session.h"

namespace rep::app {

// Start-up checks of the target against what the source will send, after the source's own
// preflight and before anything is written: every table's layout, key, identity columns and
// column types (target/schema_report.h), and the foreign keys whose actions would reach a
// table the source does not send (target/boundary_check.h). Throws a setup_error (exit status
// 2) listing every problem found, each with its fix, and how to skip the check
// (--skipTargetCheck schema, types, cascades).
void preflight_target(const CommonConfig& config, util::TargetSession& target,
                      const target::Dialect& dialect, const SchemaRef& target_schema,
                      const source::Source& source);

}  // namespace rep::app
