#include "target/dialect.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::target {

TargetProduct detect_product(const std::string& version_string) {
    return version_string.find("CockroachDB") != std::string::npos ? TargetProduct::kCockroach
                                                                   : TargetProduct::kPostgres;
}

std::string Dialect::written_value(const TargetColumn& c, const std::string& ref) {
    std::string value = fmt::format("{}::{}", ref, c.cast_type);
    if (c.expr.empty()) {
        return value;
    }
    // The value goes in parentheses, so that any operator around it binds as it would
    // around a parameter.
    std::string out;
    size_t from = 0;
    for (size_t at = find_value_placeholder(c.expr); at != std::string::npos;
         at = find_value_placeholder(c.expr, from)) {
        out.append(c.expr, from, at - from);
        out += "(" + value + ")";
        from = at + 2;
    }
    return out + c.expr.substr(from);
}

std::string Dialect::unnest_select(const TargetTable& t, const std::vector<size_t>& cols) const {
    std::string select = "SELECT ";
    std::string args;
    std::string alias;
    for (size_t i = 0; i < cols.size(); ++i) {
        const auto& c = t.columns[cols[i]];
        if (i > 0) {
            select += ", ";
            args += ", ";
            alias += ", ";
        }
        select += written_value(c, fmt::format("u.c{}", i));
        args += fmt::format("${}::text[]", i + 1);
        alias += fmt::format("c{}", i);
    }
    return fmt::format("{} FROM unnest({}) AS u({})", select, args, alias);
}

std::string Dialect::upsert(const TargetTable& t, const std::vector<size_t>& cols) const {
    std::string names;
    for (size_t i = 0; i < cols.size(); ++i) {
        names += (i > 0 ? ", " : "") + quote_ident(t.columns[cols[i]].name);
    }
    std::string table = t.name.sql(qualify_database());
    if (product_ == TargetProduct::kCockroach) {
        return fmt::format("UPSERT INTO {} ({}) {}", table, names, unnest_select(t, cols));
    }
    std::string pk;
    for (size_t i = 0; i < t.pk.size(); ++i) {
        pk += (i > 0 ? ", " : "") + quote_ident(t.columns[t.pk[i]].name);
    }
    std::string set;
    for (size_t c : cols) {
        if (t.columns[c].pk_position > 0) {
            continue;
        }
        const std::string q = quote_ident(t.columns[c].name);
        set += set.empty() ? "" : ", ";
        set += q;
        set += " = excluded.";
        set += q;
    }
    std::string overriding = t.has_identity_always() ? " OVERRIDING SYSTEM VALUE" : "";
    std::string action = set.empty() ? "DO NOTHING" : "DO UPDATE SET " + set;
    return fmt::format("INSERT INTO {} ({}){} {} ON CONFLICT ({}) {}", table, names, overriding,
                       unnest_select(t, cols), pk, action);
}

std::string Dialect::delete_by_pk(const TargetTable& t) const {
    std::string pk;
    for (size_t i = 0; i < t.pk.size(); ++i) {
        pk += (i > 0 ? ", " : "") + quote_ident(t.columns[t.pk[i]].name);
    }
    return fmt::format("DELETE FROM {} WHERE ({}) IN ({})", t.name.sql(qualify_database()), pk,
                       unnest_select(t, t.pk));
}

std::string Dialect::move_by_pk(const TargetTable& t, const std::vector<size_t>& cols) const {
    std::string set;
    std::string args;
    std::string alias;
    for (size_t i = 0; i < cols.size(); ++i) {
        const TargetColumn& c = t.columns[cols[i]];
        set += fmt::format("{}{} = {}", i > 0 ? ", " : "", quote_ident(c.name),
                           written_value(c, fmt::format("u.c{}", i)));
        args += fmt::format("{}${}::text[]", i > 0 ? ", " : "", i + 1);
        alias += fmt::format("{}c{}", i > 0 ? ", " : "", i);
    }
    std::string target_key;
    std::string old_key;
    for (size_t k = 0; k < t.pk.size(); ++k) {
        const TargetColumn& c = t.columns[t.pk[k]];
        target_key += fmt::format("{}target_row.{}", k > 0 ? ", " : "", quote_ident(c.name));
        old_key += fmt::format("{}u.k{}::{}", k > 0 ? ", " : "", k, c.cast_type);
        args += fmt::format(", ${}::text[]", cols.size() + k + 1);
        alias += fmt::format(", k{}", k);
    }
    return fmt::format("UPDATE {} AS target_row SET {} FROM unnest({}) AS u({}) WHERE ({}) = ({})",
                       t.name.sql(qualify_database()), set, args, alias, target_key, old_key);
}

namespace {

// The tables in an order that deletes every referencing table before the tables it references
// (foreign key checks cannot be deferred on CockroachDB). Tables in a cycle of references
// keep their given order: no order works for them unless the keys cascade or allow NULL.
std::vector<const TargetTable*> children_first(const std::vector<const TargetTable*>& tables,
                                               const Dialect::ForeignKeys& foreign_keys) {
    std::vector<const TargetTable*> left = tables;
    std::vector<const TargetTable*> out;
    auto referenced_by_a_table_left = [&](const TargetTable* t) {
        for (const auto& [from, to] : foreign_keys) {
            if (to != t->name.display() || from == to) {
                continue;
            }
            for (const TargetTable* other : left) {
                if (other->name.display() == from) {
                    return true;
                }
            }
        }
        return false;
    };
    while (!left.empty()) {
        auto next = std::find_if(left.begin(), left.end(), [&](const TargetTable* t) {
            return !referenced_by_a_table_left(t);
        });
        if (next == left.end()) {
            next = left.begin();  // a cycle
        }
        out.push_back(*next);
        left.erase(next);
    }
    return out;
}

}  // namespace

std::vector<std::string> Dialect::truncate(const std::vector<const TargetTable*>& tables,
                                           bool cascade, bool restart_identity,
                                           const ForeignKeys& foreign_keys) const {
    std::vector<std::string> out;
    if (product_ == TargetProduct::kCockroach) {
        // CockroachDB's TRUNCATE is a schema change and not transactional; a DELETE keeps the
        // truncate atomic with the rest of the source transaction. Unlike TRUNCATE, a DELETE
        // follows ON DELETE actions into tables the source did not truncate: refuse, as
        // PostgreSQL's TRUNCATE without CASCADE does, naming the reference.
        for (const auto& [from, to] : foreign_keys) {
            bool to_emptied = false;
            bool from_emptied = false;
            for (const TargetTable* t : tables) {
                to_emptied = to_emptied || t->name.display() == to;
                from_emptied = from_emptied || t->name.display() == from;
            }
            if (to_emptied && !from_emptied) {
                throw Error(ErrorKind::kFatal,
                            fmt::format("cannot empty table {} on the target: table {} references "
                                        "it and the source did not truncate it too (PostgreSQL "
                                        "would refuse the TRUNCATE; on CockroachDB the DELETE "
                                        "that emulates it could cascade into {}). Drop that "
                                        "foreign key on the target, or empty both tables "
                                        "yourself and run with --truncateMode ignore",
                                        to, from, from));
            }
        }
        for (const auto* t : children_first(tables, foreign_keys)) {
            out.push_back("DELETE FROM " + t->name.sql(true) + " WHERE true");
        }
        return out;
    }
    std::string names;
    for (size_t i = 0; i < tables.size(); ++i) {
        names += (i > 0 ? ", " : "") + tables[i]->name.sql(false);
    }
    out.push_back(fmt::format("TRUNCATE {}{}{}", names, restart_identity ? " RESTART IDENTITY" : "",
                              cascade ? " CASCADE" : ""));
    return out;
}

}  // namespace rep::target
