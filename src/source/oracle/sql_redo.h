#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rep::oracle {

// A value of LogMiner's SQL_REDO, as rendered under the session NLS settings the reader pins
// (docs/oraclelogminer.md; reference §1.7-1.8): what was written, decoded only as far as the
// text itself says. Which target type it becomes is redo_values.h's business.
struct RedoValue {
    enum class Kind : uint8_t {
        kNull,         // NULL, or IS NULL in a WHERE clause
        kText,         // a quoted literal ('' undoubled, || chains and UNISTR joined)
        kNumber,       // a bare numeric literal (LogMiner quotes numbers; accepted anyway)
        kDate,         // TO_DATE('YYYY-MM-DD HH24:MI:SS', <the pinned mask>): the literal
        kTimestamp,    // TO_TIMESTAMP('YYYY-MM-DD HH24:MI:SS.FFFFFFFFF'): the literal
        kTimestampTz,  // TO_TIMESTAMP_TZ('YYYY-MM-DD HH24:MI:SS.FF9 +hh:mm'): the literal
        kRaw,          // HEXTORAW('..'): the hex digits, lower case
        kEmptyLob,     // EMPTY_CLOB() / EMPTY_BLOB()
        kYmInterval,   // TO_YMINTERVAL('+yy-mm'): the literal
        kDsInterval,   // TO_DSINTERVAL('+ddd hh:mi:ss.fffffffff'): the literal
        kUnsupported,  // Unsupported Type, native JSON, XMLType(:1): `text` says which
    };
    Kind kind = Kind::kNull;
    std::string text;
};

struct RedoColumn {
    std::string name;  // as quoted in the statement, without the quotes
    RedoValue value;
};

// One DML statement of SQL_REDO (CSF continuation rows already joined).
struct RedoStatement {
    enum class Op : uint8_t { kInsert, kUpdate, kDelete };
    Op op = Op::kInsert;
    std::string schema;
    std::string table;
    // insert: every column written; update: the SET list (the changed columns only).
    std::vector<RedoColumn> values;
    // update, delete: the WHERE terms, the before-image (`"C" IS NULL` as a NULL value;
    // `IS NOT NULL` terms and the ROWID term are left out).
    std::vector<RedoColumn> where;
};

// Parses the narrow grammar LogMiner writes SQL_REDO in:
//   insert into "S"."T"("A","B") values ('1',NULL);
//   update "S"."T" [alias] set [alias.]"A" = '2', ... [where [alias.]"A" = '1' and "B" IS NULL
//   ...]; delete from "S"."T" where "A" = '1' and ...;
// with or without the trailing `;` and a trailing `and ROWID = '...'`. Throws rep::Error
// (fatal) naming the character position and what was expected for anything else, such as a
// quote LogMiner left unescaped (MAX_STRING_SIZE=EXTENDED) or `/* No SQL_REDO for temporary
// tables */`: never a guess.
RedoStatement parse_sql_redo(std::string_view sql);

}  // namespace rep::oracle
