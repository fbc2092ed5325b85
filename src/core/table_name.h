#pragma once

#include <string>
#include <string_view>

namespace rep {

// A SQL identifier exactly as the catalog stores it (no folding); quote() renders it for SQL.
std::string quote_ident(std::string_view name);

// A schema reference given on the command line as "database.schema" (or just "schema"),
// like --targetSchema and --stagingSchema. `raw` keeps the user's spelling because the memo
// key is derived from it. Unquoted parts are folded to lower case, as SQL does; parts written
// in double quotes are kept as written.
struct SchemaRef {
    std::string raw;
    std::string database;  // empty if not given
    std::string schema;

    // Throws rep::Error naming `flag` if the text is not one or two identifiers.
    static SchemaRef parse(std::string_view text, std::string_view flag);
};

// A target table: schema reference plus table name, rendered fully quoted for SQL.
struct TableName {
    SchemaRef schema;
    std::string table;

    // "db"."schema"."table" when the database part must be spelled (CockroachDB), or
    // "schema"."table" for PostgreSQL, which cannot reach another database.
    std::string sql(bool with_database) const;
    // schema.table for messages.
    std::string display() const { return schema.schema + "." + table; }
};

}  // namespace rep
