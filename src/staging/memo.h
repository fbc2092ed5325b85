#pragma once

#include "core/table_name.h"
#include "staging/parallel_checkpoint.h"
#include "target/dialect.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rep {
class PgConn;

// The staging schema's `memo` table: key STRING PRIMARY KEY, value BYTES NOT NULL, the layout
// MOLT Replicator uses, so either binary can resume from the other's checkpoint. pglogical
// stores its resume LSN under "pglogical-wal-offset-<--targetSchema as given>" as "X/Y" text.
// See docs/staging.md.
class Memo {
public:
    Memo(const Dialect& dialect, SchemaRef staging_schema);

    // Checks that the memo table exists, creating schema and table when `create` is set.
    // Throws rep::Error (fatal) with the flag to pass when it is missing.
    void ensure(PgConn& conn, bool create);

    std::optional<std::string> read(PgConn& conn, const std::string& key);
    // Upserts in the connection's current transaction, if one is open.
    void write(PgConn& conn, const std::string& key, const std::string& value);
    // The upsert of `rows` rows (keys must differ); its parameters are key, value, key,
    // value... write() runs it for one row, the apply loop for its checkpoint rows.
    std::string upsert_sql(size_t rows) const;

    // Every (key, value) whose key starts with `prefix`, in key order.
    std::vector<std::pair<std::string, std::string>> read_prefixed(PgConn& conn,
                                                                   const std::string& prefix);
    void remove(PgConn& conn, const std::string& key);

    const std::string& table_sql() const { return table_; }

private:
    // Resolves database/schema names against the connection; PostgreSQL cannot reach another
    // database, so a database part must name the one connected to.
    void resolve(PgConn& conn);

    const Dialect& dialect_;
    SchemaRef schema_;
    std::string table_;  // quoted, qualified memo table name
    std::string schema_sql_;
};

std::string pglogical_memo_key(const SchemaRef& target_schema);

// Reads the plain checkpoint `key` and the parallel checkpoint records beside it, and returns
// what they say is applied (parallel_checkpoint.h). Then consolidates them so the next run's
// workers can reuse their record keys: the plain row is raised to the recovered prefix, the
// ranges beyond it go into one "#carried" record, and the workers' records are deleted, in
// that order, each in its own transaction (a crash in between leaves redundant rows only).
// Throws rep::Error (fatal) naming the row if a record cannot be read.
AppliedSet recover_applied(Memo& memo, PgConn& conn, const std::string& key);

}  // namespace rep
