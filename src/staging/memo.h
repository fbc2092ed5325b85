#pragma once

#include "core/table_name.h"
#include "staging/parallel_checkpoint.h"
#include "target/dialect.h"
#include "util/target_session.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rep::staging {

// The staging schema's `memo` table: key STRING PRIMARY KEY, value BYTES NOT NULL, the layout
// MOLT Replicator uses, so either binary can resume from the other's checkpoint. Each source
// chooses its key and spells its checkpoint (Source::memo_key, PositionCodec); this class only
// stores text. See docs/staging.md.
class Memo {
public:
    Memo(const target::Dialect& dialect, SchemaRef staging_schema);

    // Checks that the memo table exists, creating schema and table when `create` is set.
    // Throws rep::Error (fatal) with the flag to pass when it is missing.
    void ensure(util::TargetSession& conn, bool create);

    std::optional<std::string> read(util::TargetSession& conn, const std::string& key);
    // Upserts in the connection's current transaction, if one is open.
    void write(util::TargetSession& conn, const std::string& key, const std::string& value);
    // The upsert of `rows` rows (keys must differ); its parameters are key, value, key,
    // value... write() runs it for one row, the apply loop for its checkpoint rows.
    std::string upsert_sql(size_t rows) const;
    // A query that fails (SQLSTATE 22P02, kChainBroken in its message) unless the row of key
    // $1 holds exactly the value $2: what a group sent behind the previous group's COMMIT
    // runs first, so that it cannot commit if that COMMIT did not (docs/staging.md §4.1).
    std::string guard_sql() const;
    static constexpr const char* kChainBroken = "the group before did not commit";

    // Every (key, value) whose key starts with `prefix`, in key order.
    std::vector<std::pair<std::string, std::string>> read_prefixed(util::TargetSession& conn,
                                                                   const std::string& prefix);
    void remove(util::TargetSession& conn, const std::string& key);

    const std::string& table_sql() const { return table_; }
    // The quoted, qualified staging schema the memo table is in (after ensure()).
    const std::string& schema_sql() const { return schema_sql_; }

private:
    // Resolves database/schema names against the connection; PostgreSQL cannot reach another
    // database, so a database part must name the one connected to.
    void resolve(util::TargetSession& conn);

    const target::Dialect& dialect_;
    SchemaRef schema_;
    std::string table_;  // quoted, qualified memo table name
    std::string schema_sql_;
};

// Reads the plain checkpoint `key` and the parallel checkpoint records beside it, and returns
// what they say is applied (parallel_checkpoint.h). Then consolidates them so the next run's
// workers can reuse their record keys: the plain row is raised to the recovered prefix, the
// ranges beyond it go into one "#carried" record, and the workers' records are deleted, in
// that order, each in its own transaction (a crash in between leaves redundant rows only).
// Positions are read and spelled with `codec`, which must have stable ordinals. Throws
// rep::Error (fatal) naming the row if the plain checkpoint or a record cannot be read.
AppliedSet recover_applied(Memo& memo, util::TargetSession& conn, const std::string& key,
                           const PositionCodec& codec);

}  // namespace rep::staging
