#pragma once

#include "core/mutation.h"
#include "core/table_name.h"
#include "target/dialect.h"
#include "target/table_mapping.h"
#include "target/target_table.h"
#include "util/target_session.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace rep::target {

// Finds the target table of each source relation and maps one onto the other, caching the
// mapping per relation layout: a new layout announced by the source (a new Relation) reads
// the catalog again. One catalog serves a whole pipeline run, shared by the dispatcher and
// every apply worker, so each table is read once, by whichever thread needs it first, on that
// thread's own session. Thread-safe; mappings live as long as the catalog.
class TableCatalog {
public:
    // Reads a table's layout; load_target_table() in production, a fixed answer in tests.
    using Loader =
        std::function<std::optional<TargetTable>(util::TargetSession&, const TableName&)>;

    // A table's ColumnRules (a userscript's configureTable), by its target name.
    using RulesOf = std::function<ColumnRules(const TableName&)>;

    TableCatalog(const Dialect& dialect, SchemaRef target_schema, Loader loader,
                 RulesOf rules_of = nullptr);

    // Throws rep::Error (fatal) naming the table if it does not exist on the target, if the
    // layouts do not fit (TableMapping), or if a table of the same name from another source
    // schema was mapped onto it before.
    std::shared_ptr<const TableMapping> resolve(util::TargetSession& session,
                                                const std::shared_ptr<const Relation>& rel);
    // The table `rel` goes to, read afresh (a TRUNCATE acts on the table as it is now), or,
    // in the first seconds of a run, from the run's prefetch (TablePrefetch); with the
    // userscript's exprs on its columns (apply_exprs).
    std::shared_ptr<const TargetTable> table(util::TargetSession& session, const Relation& rel);

    const Dialect& dialect() const { return dialect_; }
    const SchemaRef& schema() const { return schema_; }
    // The database whose catalog describes the target tables (Dialect::catalog_database).
    std::string catalog_database() const { return dialect_.catalog_database(schema_); }

private:
    const Dialect& dialect_;
    SchemaRef schema_;
    Loader loader_;
    RulesOf rules_of_;
    std::mutex mu_;
    std::unordered_map<const Relation*, std::shared_ptr<const TableMapping>> by_relation_;
    // Keeps the relations alive so their addresses stay unique while cached.
    std::vector<std::shared_ptr<const Relation>> pinned_;
    // Target table name -> the source schema whose table of that name it receives.
    std::unordered_map<std::string, std::string> source_of_;
};

// The layouts of the tables a run expects (the source's), read in one query when the first
// of them is needed and handed out once each: a later read of a table (a new version of its
// source relation, a TRUNCATE) goes to the target again. Only for `fresh` after the query: a
// table first needed later (idle since the start) is read when needed, so a change to it on
// the target in the meantime is seen. Shared by the threads that resolve tables; the first
// does the query, the others wait for it.
class TablePrefetch {
public:
    using Clock = std::chrono::steady_clock;
    using BatchLoader =
        std::function<std::map<std::string, TargetTable>(const std::vector<std::string>& tables)>;
    static constexpr Clock::duration kFresh = std::chrono::seconds(5);

    explicit TablePrefetch(std::vector<std::string> tables, Clock::duration fresh = kFresh)
        : expected_(std::move(tables)), fresh_(fresh) {}

    // `name`'s layout from the prefetch, loading all expected tables with `load` on the first
    // call; nullopt if it is not among them, was handed out already, does not exist, or the
    // prefetch is older than `fresh` (the caller then reads it on its own).
    std::optional<TargetTable> take(const TableName& name, const BatchLoader& load,
                                    Clock::time_point now = Clock::now());

private:
    std::mutex mu_;
    std::vector<std::string> expected_;
    Clock::duration fresh_;
    std::optional<Clock::time_point> loaded_at_;
    std::map<std::string, TargetTable> tables_;
};

// Why the source's values for a GENERATED ALWAYS identity column cannot be written, with the
// fix, or "" if they can: CockroachDB has no OVERRIDING SYSTEM VALUE.
std::string unwritable_identity(const TableMapping& mapping, const Dialect& dialect);

}  // namespace rep::target
