#include "target/table_mapping.h"

#include "base/error.h"
#include "base/hash.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

namespace rep::target {
namespace {

// A column a userscript's column rules name: as spelled, else, for an all upper-case name
// (an Oracle script's), the column it folds to, as an unquoted name does in SQL.
std::optional<size_t> find_named(const TargetTable& table, const std::string& name) {
    auto idx = table.find(name);
    return idx ? idx : table.find(fold_upper_case(name));
}

}  // namespace

std::string TableMapping::drift_message(const std::string& column) const {
    // Target columns the source does not send: a column renamed on the source shows up as
    // one of these plus one new source column. Renaming is then the fix; adding the new
    // column would leave the old one on the target, stale.
    std::vector<std::string> only_target;
    for (const TargetColumn& c : target_->columns) {
        bool sent = std::any_of(source_->columns.begin(), source_->columns.end(),
                                [&](const SourceColumn& s) { return s.name == c.name; });
        if (!sent && !c.generated) {
            only_target.push_back(c.name);
        }
    }
    size_t only_source =
        std::count_if(source_->columns.begin(), source_->columns.end(),
                      [&](const SourceColumn& s) { return !target_->find(s.name).has_value(); });
    std::string table = target_->name.display();
    std::string fix;
    if (only_source == 1 && only_target.size() == 1) {
        fix = fmt::format(
            "if the source renamed \"{}\" to \"{}\", rename it on the target (ALTER TABLE {} "
            "RENAME COLUMN {} TO {}); if it is a new column, add it (ALTER TABLE {} ADD COLUMN "
            "{} ...)",
            only_target[0], column, table, quote_ident(only_target[0]), quote_ident(column), table,
            quote_ident(column));
    } else {
        fix = fmt::format("add the column to the target (ALTER TABLE {} ADD COLUMN {} ...)", table,
                          quote_ident(column));
        if (!only_target.empty()) {
            std::string names;
            for (const std::string& n : only_target) {
                names += (names.empty() ? "\"" : ", \"") + n + "\"";
            }
            fix += fmt::format(
                ", or, if the source renamed one of the target's columns it no "
                "longer sends ({}), rename that one (ALTER TABLE {} RENAME COLUMN "
                "... TO {})",
                names, table, quote_ident(column));
        }
    }
    return fmt::format(
        "schema drift detected: source table {}.{} has column \"{}\" but target table {} does "
        "not; {}, then run the same command again",
        source_->schema, source_->name, column, table, fix);
}

void TableMapping::check_key_coverage() const {
    // Two source rows must never land on one target key: an upsert would silently turn two
    // rows into one. With REPLICA IDENTITY FULL every column is flagged as key and says
    // nothing about uniqueness; the source's preflight checks such tables instead.
    if (source_->replica_identity == 'f' || source_->replica_identity == kScriptedIdentity) {
        return;  // a userscript's layout: every row must carry the target's key (has_key)
    }
    std::string source_key;
    std::string uncovered;
    for (const SourceColumn& c : source_->columns) {
        if (!c.is_key) {
            continue;
        }
        source_key += (source_key.empty() ? "" : ", ") + quote_ident(c.name);
        auto idx = target_->find(c.name);
        if (!idx || target_->columns[*idx].pk_position == 0) {
            uncovered += (uncovered.empty() ? "" : ", ") + quote_ident(c.name);
        }
    }
    std::string table = target_->name.display();
    if (source_key.empty()) {
        throw fatal(fmt::format(
            "source table {}.{} has no key (no primary key, or REPLICA IDENTITY NOTHING), so "
            "it can hold rows that target table {}'s primary key cannot tell apart, and they "
            "would be merged into one; give the source table a primary key (or a unique index "
            "on NOT NULL columns with REPLICA IDENTITY USING INDEX)",
            source_->schema, source_->name, table));
    }
    if (!uncovered.empty()) {
        std::string target_key;
        for (size_t i : target_->pk) {
            target_key += (target_key.empty() ? "" : ", ") + quote_ident(target_->columns[i].name);
        }
        throw fatal(fmt::format(
            "the key of source table {}.{} ({}) is not part of target table {}'s primary key "
            "({}): source rows that differ only in {} would be merged into one on the target; "
            "give the target table a primary key that includes the source's key",
            source_->schema, source_->name, source_key, table, target_key, uncovered));
    }
}

TableMapping::TableMapping(std::shared_ptr<const TargetTable> target,
                           std::shared_ptr<const Relation> source, const ColumnRules& rules)
    : target_(std::move(target)), source_(std::move(source)) {
    if (target_->pk.empty() && !target_->implicit_key.empty()) {
        // CockroachDB's table without a primary key: its hidden rowid gets a new value on
        // every insert, so upserts of the same source row would pile up copies.
        std::string source_key;
        for (const SourceColumn& c : source_->columns) {
            if (c.is_key) {
                source_key += (source_key.empty() ? "" : ", ") + quote_ident(c.name);
            }
        }
        throw fatal(fmt::format(
            "target table {} has no primary key of its own: CockroachDB keys it by its hidden "
            "column {}, which the source cannot supply, so every change would add a row instead "
            "of updating one; give it the source's key (ALTER TABLE {} ALTER PRIMARY KEY USING "
            "COLUMNS ({})), then run the same command again",
            target_->name.display(), target_->implicit_key.front(), target_->name.display(),
            source_key.empty() ? "..." : source_key));
    }
    if (target_->pk.empty()) {
        throw fatal(fmt::format(
            "target table {} has no primary key; replicated tables need one so rows can be "
            "upserted and deleted by key (ALTER TABLE {} ADD PRIMARY KEY (...))",
            target_->name.display(), target_->name.display()));
    }
    if (!rules.extras.empty()) {
        auto idx = find_named(*target_, rules.extras);
        if (!idx || target_->columns[*idx].generated) {
            throw fatal(fmt::format(
                "the userscript names \"{}\" as the extras column of target table {}, which "
                "has no such (writable) column; add it (a JSONB column) or fix the name",
                rules.extras, target_->name.display()));
        }
        if (std::any_of(
                source_->columns.begin(), source_->columns.end(),
                [&](const SourceColumn& c) { return c.name == target_->columns[*idx].name; })) {
            throw fatal(fmt::format(
                "the userscript names \"{}\" as the extras column of target table {}, but "
                "source table {}.{} has a column of that name, whose values would be "
                "overwritten; choose another extras column",
                rules.extras, target_->name.display(), source_->schema, source_->name));
        }
        extras_ = static_cast<int>(*idx);
    }
    for (size_t i = 0; i < source_->columns.size(); ++i) {
        const SourceColumn& col = source_->columns[i];
        auto idx = target_->find(col.name);
        // Ignored columns the target has are written as usual here and left out of what a
        // table-level handler answers (prelude.js), so the handler still sees them.
        if (!idx && std::find(rules.ignore.begin(), rules.ignore.end(), col.script_name()) !=
                        rules.ignore.end()) {
            source_to_target_.push_back(-1);
            continue;
        }
        if (!idx && extras_ >= 0) {
            to_extras_.push_back(i);
            source_to_target_.push_back(-1);
            continue;
        }
        if (!idx && source_->replica_identity == kScriptedIdentity) {
            // A userscript's layout: a delete may carry key columns under old names as well
            // (MOLT's cookbook renames a key so); an upsert that writes one is drift
            // (drift_in), judged per row.
            unmapped_.push_back(i);
            source_to_target_.push_back(-1);
            continue;
        }
        if (!idx) {
            throw fatal(drift_message(col.name));
        }
        source_to_target_.push_back(target_->columns[*idx].generated ? -1 : static_cast<int>(*idx));
    }
    for (size_t i = 0; i < target_->columns.size(); ++i) {
        const TargetColumn& c = target_->columns[i];
        if (!c.expr.empty() && find_value_placeholder(c.expr) == std::string::npos &&
            std::find(source_to_target_.begin(), source_to_target_.end(), static_cast<int>(i)) ==
                source_to_target_.end()) {
            constants_.push_back(i);  // written by every upsert, from no source value
        }
    }
    check_key_coverage();
    for (size_t pk : target_->pk) {
        auto it =
            std::find(source_to_target_.begin(), source_to_target_.end(), static_cast<int>(pk));
        pk_source_.push_back(
            it == source_to_target_.end() ? -1 : static_cast<int>(it - source_to_target_.begin()));
    }
    table_hash_ = std::hash<std::string>{}(target_->name.display());
}

void apply_exprs(TargetTable& table, const std::map<std::string, std::string>& exprs) {
    for (const auto& [name, expr] : exprs) {
        auto idx = find_named(table, name);
        if (!idx) {
            throw fatal(fmt::format(
                "the userscript gives an exprs entry for column \"{}\" of target table {}, "
                "which has no such column; fix the name",
                name, table.name.display()));
        }
        TargetColumn& c = table.columns[*idx];
        if (c.generated) {
            throw fatal(fmt::format(
                "the userscript gives an exprs entry for column \"{}\" of target table {}, "
                "which the target computes itself (a generated column) and is never written; "
                "remove the entry",
                name, table.name.display()));
        }
        if (c.pk_position > 0) {
            throw fatal(fmt::format(
                "the userscript gives an exprs entry for primary key column \"{}\" of target "
                "table {}: rows are updated and deleted by the key values the source sends, "
                "which would no longer be the ones written; compute the key in map (or "
                "onRowUpsert and onRowDelete) instead",
                name, table.name.display()));
        }
        c.expr = expr;
    }
}

std::string TableMapping::drift_in(const std::vector<Datum>& source_values) const {
    for (size_t i : unmapped_) {
        if (i < source_values.size() && !source_values[i].absent()) {
            return drift_message(source_->columns[i].name);
        }
    }
    return {};
}

std::optional<uint64_t> TableMapping::key_hash(const std::vector<Datum>& source_values) const {
    uint64_t h = table_hash_;
    for (int src : pk_source_) {
        if (src < 0 || static_cast<size_t>(src) >= source_values.size() ||
            source_values[static_cast<size_t>(src)].absent()) {
            return std::nullopt;
        }
        const Datum& d = source_values[static_cast<size_t>(src)];
        uint64_t v = d.is_null() ? 0x9e3779b97f4a7c15ULL : std::hash<std::string>{}(d.text);
        h = hash_combine(h, v);
    }
    return h;
}

std::vector<Datum> TableMapping::project(const std::vector<Datum>& values, bool upsert) const {
    std::vector<Datum> row(target_->columns.size());
    for (size_t i = 0; i < values.size() && i < source_to_target_.size(); ++i) {
        if (source_to_target_[i] >= 0) {
            row[static_cast<size_t>(source_to_target_[i])] = values[i];
        }
    }
    if (upsert && !to_extras_.empty()) {
        nlohmann::json extras = nlohmann::json::object();
        for (size_t i : to_extras_) {
            if (i >= values.size() || values[i].absent()) {
                // The upsert writes the extras column whole: an object without this value
                // would erase the one the target holds.
                throw fatal(fmt::format(
                    "source table {}.{} did not send column \"{}\" (an unchanged value: "
                    "PostgreSQL's TOAST, or an Oracle UPDATE that did not set it), which goes "
                    "into the extras column of target table {}, and writing the column without "
                    "it would lose the value the target holds; give the column a target column "
                    "of its own, or leave it out with ignore, then run the same command again",
                    source_->schema, source_->name, source_->columns[i].name,
                    target_->name.display()));
            }
            extras[source_->columns[i].name] =
                values[i].is_null() ? nlohmann::json() : nlohmann::json(values[i].text);
        }
        try {
            row[static_cast<size_t>(extras_)] = Datum::value(extras.dump());
        } catch (const nlohmann::json::exception&) {
            // Sources render values as UTF-8 text; anything else is not altered to fit.
            throw fatal(fmt::format(
                "a value for the extras column of target table {} is not UTF-8 text, so it "
                "cannot go into JSON; give the column a table column of its own",
                target_->name.display()));
        }
    }
    return row;
}

bool TableMapping::has_key(const std::vector<Datum>& row) const {
    for (size_t i : target_->pk) {
        if (row[i].absent()) {
            return false;
        }
    }
    return true;
}

std::string TableMapping::key(const std::vector<Datum>& row) const {
    std::string k;
    for (size_t i : target_->pk) {
        const Datum& d = row[i];
        k += d.is_null() ? 'n' : 't';
        k += std::to_string(d.text.size());
        k += ':';
        k += d.text;
    }
    return k;
}

std::string TableMapping::describe_key(const std::vector<Datum>& row) const {
    std::string out;
    for (size_t i : target_->pk) {
        if (!out.empty()) {
            out += ", ";
        }
        const Datum& d = row[i];
        out += target_->columns[i].name + "=" +
               (d.is_null()  ? "NULL"
                : d.absent() ? "<absent>"
                             : d.text.substr(0, 100));
    }
    return out;
}

std::string TableMapping::missing_key_column(const std::vector<Datum>& row) const {
    for (size_t i : target_->pk) {
        if (row[i].absent()) {
            return target_->columns[i].name;
        }
    }
    return {};
}

void TableMapping::add_constants(std::vector<Datum>& row) const {
    for (size_t i : constants_) {
        if (i < row.size() && row[i].absent()) {
            row[i] = Datum::null();  // a placeholder: the constant expr does not read it
        }
    }
}

int TableMapping::source_of(size_t column) const {
    auto it =
        std::find(source_to_target_.begin(), source_to_target_.end(), static_cast<int>(column));
    return it == source_to_target_.end() ? -1 : static_cast<int>(it - source_to_target_.begin());
}

bool TableMapping::writes(size_t column) const {
    if (static_cast<int>(column) == extras_ && !to_extras_.empty()) {
        return true;
    }
    return std::find(source_to_target_.begin(), source_to_target_.end(),
                     static_cast<int>(column)) != source_to_target_.end();
}

}  // namespace rep::target
