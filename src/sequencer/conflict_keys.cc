#include "sequencer/conflict_keys.h"

#include "base/error.h"

#include <algorithm>

namespace rep::sequencer {

ConflictKeys::ConflictKeys(target::TableCatalog& catalog, util::TargetSession& session,
                           bool table_groups, ForeignKeyLoader load_foreign_keys)
    : catalog_(catalog),
      session_(session),
      table_groups_enabled_(table_groups),
      load_foreign_keys_(std::move(load_foreign_keys)) {}

bool ConflictKeys::add(const ChangeItem& changes, std::vector<uint64_t>& keys) {
    try {
        for (const Mutation& m : changes.mutations) {
            auto it = mappings_.find(m.relation.get());
            if (it == mappings_.end()) {
                it = mappings_
                         .emplace(m.relation.get(), catalog_.resolve(session_, m.relation).get())
                         .first;
            }
            const target::TableMapping* mapping = it->second;
            const target::TargetTable& t = mapping->target();
            if (t.order_sensitive) {
                // Foreign keys and secondary unique indexes relate rows of different keys
                // (and tables): such tables are ordered as a whole, not per key.
                keys.push_back(table_group_key(t));
                continue;
            }
            auto key = mapping->key_hash(m.values);
            auto old_key = m.old_values.empty() ? key : mapping->key_hash(m.old_values);
            if (!key || !old_key) {
                return false;  // a key is missing: the worker reports it in context
            }
            keys.push_back(*key);
            if (*old_key != *key) {
                keys.push_back(*old_key);
            }
        }
        return true;
    } catch (const Error& e) {
        if (e.retryable()) {
            throw;
        }
        // An unknown table or schema drift: the transaction runs alone, so its worker stops
        // with the same message (and after the same commits) as with one connection.
        return false;
    }
}

uint64_t ConflictKeys::table_group_key(const target::TargetTable& table) {
    if (auto it = group_keys_.find(&table); it != group_keys_.end()) {
        return it->second;
    }
    std::string name = table.name.schema.schema + "." + table.name.table;
    std::string group = "*";
    if (table_groups_enabled_) {
        if (!table_groups_loaded_ || !table_groups_.contains(name)) {
            // Tables joined by foreign keys (in either direction, across any schema) form one
            // group, found by union-find; read afresh whenever a table we have not placed
            // shows up.
            std::unordered_map<std::string, std::string> parent;
            auto root = [&](std::string x) {
                for (auto it = parent.find(x); it != parent.end() && it->second != x;
                     it = parent.find(x)) {
                    x = it->second;
                }
                return x;
            };
            for (const auto& [from, to] : load_foreign_keys_(session_)) {
                std::string a = root(from);
                std::string b = root(to);
                parent.emplace(a, a);
                parent.emplace(b, b);
                if (a != b) {
                    parent[std::max(a, b)] = std::min(a, b);
                }
            }
            table_groups_.clear();
            group_keys_.clear();
            for (const auto& [t, p] : parent) {
                table_groups_[t] = root(t);
            }
            table_groups_[name];  // placed: not looked up again until another table appears
            table_groups_loaded_ = true;
        }
        const std::string& g = table_groups_[name];
        group = g.empty() ? name : g;
    }
    return group_keys_[&table] = std::hash<std::string>{}("order-sensitive tables: " + group);
}

}  // namespace rep::sequencer
