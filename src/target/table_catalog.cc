#include "target/table_catalog.h"

#include "base/error.h"

#include <fmt/format.h>

namespace rep::target {

TableCatalog::TableCatalog(const Dialect& dialect, SchemaRef target_schema, Loader loader)
    : dialect_(dialect), schema_(std::move(target_schema)), loader_(std::move(loader)) {}

std::shared_ptr<const TargetTable> TableCatalog::table(util::TargetSession& session,
                                                       const Relation& rel) {
    TableName name{schema_, rel.name};
    auto t = loader_(session, name);
    if (!t) {
        throw fatal(fmt::format(
            "source table {}.{} has no target table {} on the {} target; create it with the "
            "same columns and primary key, then run the same command again",
            rel.schema, rel.name, name.display(), dialect_.name()));
    }
    return std::make_shared<const TargetTable>(std::move(*t));
}

std::shared_ptr<const TableMapping> TableCatalog::resolve(
    util::TargetSession& session, const std::shared_ptr<const Relation>& rel) {
    {
        std::lock_guard lock(mu_);
        auto it = by_relation_.find(rel.get());
        if (it != by_relation_.end()) {
            return it->second;
        }
    }
    // Read without the lock: a catalog query is a round trip, and other threads may be
    // resolving tables that are cached already. Two threads may both read a new table; the
    // first mapping stored wins, so every thread uses the same one.
    auto mapping = std::make_shared<const TableMapping>(table(session, *rel), rel);
    std::lock_guard lock(mu_);
    // Every source schema's tables go to the one target schema by bare name: two source
    // tables of one name would merge their rows in one target table.
    auto [source, fresh] = source_of_.try_emplace(rel->name, rel->schema);
    if (!fresh && source->second != rel->schema) {
        throw fatal(fmt::format(
            "source tables {}.{} and {}.{} would both be written to target table {}, merging "
            "their rows; replicate each source schema separately (its own --targetSchema), or "
            "leave one of them out of what is replicated",
            source->second, rel->name, rel->schema, rel->name, mapping->target().name.display()));
    }
    auto [it, inserted] = by_relation_.emplace(rel.get(), mapping);
    if (inserted) {
        pinned_.push_back(rel);
    }
    return it->second;
}

}  // namespace rep::target
