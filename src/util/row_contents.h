#pragma once

#include <string>
#include <string_view>

namespace rep::util {

// Server error texts that carry row values: PostgreSQL's and CockroachDB's details
// "Failing row contains (...)" (not-null and check violations) and "Key (cols)=(values) ..."
// (unique, foreign-key and exclusion violations), and data exceptions (SQLSTATE class 22)
// that quote the offending value ('invalid input syntax for type integer: "..."'). By default
// the values are replaced with <hidden> before the text reaches a log, stderr or /_/diag; the
// column names, constraint and table names stay, and the replicator's own message names the
// failing row by its primary key (docs/pglogical.md §8).
std::string hide_row_contents(std::string_view sqlstate, std::string_view text);

// --showRowContentsInErrors: keep server error texts whole (for debugging). Process-wide.
void set_show_row_contents(bool show);
bool show_row_contents();

}  // namespace rep::util
