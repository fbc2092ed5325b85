#pragma once

#include "source/oracle/sql_redo.h"

#include <optional>
#include <string>

namespace rep::oracle {

// A SQL_REDO value as the text PostgreSQL and CockroachDB parse for the target column
// (values travel as text and the target casts them, as for the other sources), or nullopt for
// NULL (reference §5.1):
//   text, numbers        as written ('-.5', '1.0E+125': the target's numeric parses them)
//   TO_DATE              'YYYY-MM-DD HH24:MI:SS'
//   TO_TIMESTAMP[_TZ]    the fraction cut to microseconds (Oracle keeps nanoseconds), a bare
//                        trailing '.' dropped, the offset kept
//   HEXTORAW             bytea's hex form, \x...
//   EMPTY_CLOB/BLOB      an empty value
//   TO_YMINTERVAL        '[-]y years [-]m months'
//   TO_DSINTERVAL        '[-]d days [-]hh:mi:ss.ffffff'
// Throws rep::Error (fatal) for Unsupported Type, native JSON and XMLType, and for a
// temporal literal not in the pinned NLS format (a comma decimal, a two-digit year), which
// would otherwise be read wrongly.
std::optional<std::string> pg_text(const RedoValue& value);

}  // namespace rep::oracle
