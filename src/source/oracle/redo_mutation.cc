#include "source/oracle/redo_mutation.h"

#include "base/error.h"
#include "source/oracle/redo_values.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace rep::oracle {
namespace {

// The target's text of `value` for a column of Oracle type `type`.
Datum datum(const RedoValue& value, const std::string& type) {
    std::optional<std::string> text = pg_text(value);
    if (!text) {
        return Datum::null();
    }
    if (type == "BINARY_FLOAT" || type == "BINARY_DOUBLE") {
        // Oracle's display of the IEEE special values (to verify on a live server: reference
        // §7); PostgreSQL and CockroachDB read these spellings.
        if (*text == "Nan" || *text == "NaN") {
            return Datum::value("NaN");
        }
        if (*text == "Inf" || *text == "Infinity") {
            return Datum::value("Infinity");
        }
        if (*text == "-Inf" || *text == "-Infinity") {
            return Datum::value("-Infinity");
        }
    }
    return Datum::value(std::move(*text));
}

}  // namespace

std::string fold_name(const std::string& oracle_name) {
    return fold_upper_case(oracle_name);
}

OracleTable make_table(const std::string& schema, const std::string& name,
                       const std::vector<OracleColumn>& columns) {
    auto relation = std::make_shared<Relation>();
    relation->schema = fold_name(schema);
    relation->name = fold_name(name);
    relation->source_schema = schema;  // what userscripts see, as MOLT's Oracle scripts do
    relation->source_name = name;
    OracleTable out;
    out.schema = schema;
    out.name = name;
    bool keyed = false;
    for (const OracleColumn& c : columns) {
        relation->columns.push_back(SourceColumn{fold_name(c.name), 0, -1, c.key, c.name});
        out.columns.push_back(c.name);
        out.types.push_back(c.type);
        keyed = keyed || c.key;
    }
    if (!keyed) {
        throw fatal(fmt::format(
            "{}.{} has no primary key: its changes cannot be applied by key. Every table of "
            "--sourceSchema is replicated; add a primary key to it",
            schema, name));
    }
    out.relation = std::move(relation);
    return out;
}

Mutation to_mutation(const RedoStatement& s, const OracleTable& table, const RedoOrigin& origin) {
    const Relation& rel = *table.relation;
    auto index_of = [&](const std::string& column) {
        for (size_t i = 0; i < table.columns.size(); ++i) {
            if (table.columns[i] == column) {
                return i;
            }
        }
        throw fatal(fmt::format(
            "SQL_REDO of transaction {} at SCN {} names column \"{}\" of {}.{}, which the "
            "table did not have when replication started (DDL during replication is not "
            "supported); restart the replicator to read the new definition",
            origin.xid, origin.scn, column, table.schema, table.name));
    };
    size_t width = rel.columns.size();
    Mutation m;
    m.relation = table.relation;
    if (s.op == RedoStatement::Op::kInsert) {
        m.kind = MutationKind::kUpsert;
        m.inserted = true;
        m.values.assign(width, Datum::null());
        for (const RedoColumn& c : s.values) {
            size_t i = index_of(c.name);
            m.values[i] = datum(c.value, table.types[i]);
        }
        return m;
    }
    // The before-image: the key (and, with more supplemental logging, other columns).
    std::vector<Datum> before(width);
    for (const RedoColumn& c : s.where) {
        size_t i = index_of(c.name);
        before[i] = datum(c.value, table.types[i]);
    }
    for (size_t i = 0; i < width; ++i) {
        if (rel.columns[i].is_key && before[i].absent()) {
            throw fatal(fmt::format(
                "the {} of {}.{} in transaction {} at SCN {} does not name primary key column "
                "\"{}\": the row cannot be found on the target. Enable supplemental logging of "
                "the primary key: ALTER DATABASE ADD SUPPLEMENTAL LOG DATA (PRIMARY KEY) "
                "COLUMNS (or ALTER TABLE {}.{} ADD SUPPLEMENTAL LOG DATA (PRIMARY KEY) COLUMNS)",
                s.op == RedoStatement::Op::kDelete ? "DELETE" : "UPDATE", table.schema, table.name,
                origin.xid, origin.scn, table.columns[i], table.schema, table.name));
        }
    }
    if (s.op == RedoStatement::Op::kDelete) {
        m.kind = MutationKind::kDelete;
        m.values.assign(width, Datum{});
        for (size_t i = 0; i < width; ++i) {
            if (rel.columns[i].is_key) {
                m.values[i] = before[i];
            }
        }
        return m;
    }
    m.kind = MutationKind::kUpsert;
    m.values.assign(width, Datum{});
    bool key_changed = false;
    for (size_t i = 0; i < width; ++i) {
        if (rel.columns[i].is_key) {
            m.values[i] = before[i];
        }
    }
    for (const RedoColumn& c : s.values) {
        size_t i = index_of(c.name);
        Datum d = datum(c.value, table.types[i]);
        if (rel.columns[i].is_key && (d.kind != before[i].kind || d.text != before[i].text)) {
            key_changed = true;
        }
        m.values[i] = std::move(d);
    }
    if (key_changed) {
        // The row moves to a new key: the apply side deletes the old row and inserts the new
        // one, so every column must be known.
        for (size_t i = 0; i < width; ++i) {
            if (m.values[i].absent()) {
                if (before[i].absent()) {
                    throw fatal(fmt::format(
                        "an UPDATE of {}.{} in transaction {} at SCN {} changes the primary key "
                        "but the redo lacks column \"{}\" of the row, which the new row needs. "
                        "Enable supplemental logging of all columns for tables whose keys "
                        "change: ALTER TABLE {}.{} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS",
                        table.schema, table.name, origin.xid, origin.scn, table.columns[i],
                        table.schema, table.name));
                }
                m.values[i] = before[i];
            }
        }
        m.old_values.assign(width, Datum{});
        for (size_t i = 0; i < width; ++i) {
            if (rel.columns[i].is_key) {
                m.old_values[i] = before[i];
            }
        }
    }
    return m;
}

}  // namespace rep::oracle
