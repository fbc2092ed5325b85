#include "target/catalog_queries.h"

#include "base/error.h"
#include "util/text_array.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>

namespace rep::target {

std::string in_database(const std::string& sql, const std::string& database) {
    if (database.empty()) {
        return sql;
    }
    static const std::regex kCatalogTable(
        R"(\b(pg_class|pg_namespace|pg_attribute|pg_type|pg_index|pg_constraint|pg_collation)\b)");
    std::string prefix;
    for (char ch : quote_ident(database)) {
        prefix += ch == '$' ? "$$" : std::string(1, ch);  // '$' is special in the format
    }
    return std::regex_replace(sql, kCatalogTable, prefix + ".pg_catalog.$1");
}

namespace {

// CockroachDB's hidden columns that it fills in itself: computed (a hash-sharded key's shard
// column) or with a default (rowid, crdb_region). pg_attribute lists them like any column
// and pg_index puts them in the primary key; only information_schema.columns says they are
// hidden (is_hidden, a CockroachDB extension: 'YES'/'NO' in the catalog code, "true"/"false"
// in the documentation, hence the lenient comparison).
// Per table (by name), in one query for all of `tables` (a text[] literal).
std::map<std::string, std::vector<std::string>> filled_hidden_columns(util::TargetSession& session,
                                                                      const SchemaRef& schema,
                                                                      const std::string& tables,
                                                                      const std::string& database) {
    std::string from = database.empty() ? std::string("information_schema.columns")
                                        : quote_ident(database) + ".information_schema.columns";
    auto rows = session.query(
        "SELECT table_name, column_name FROM " + from +
            " WHERE table_schema = $1 AND table_name = ANY($2::STRING[])"
            " AND lower(is_hidden::STRING) IN ('yes', 'true')"
            " AND (column_default IS NOT NULL OR COALESCE(generation_expression, '') <> '')",
        {schema.schema, tables});
    // Only the columns CockroachDB itself adds: a NOT VISIBLE column of the user's own, even
    // with a default, may be one the source sends.
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& row : rows) {
        std::string c = row.at(1).value_or("");
        bool shard = c.rfind("crdb_internal_", 0) == 0 && c.find("_shard_") != std::string::npos;
        if (c == "rowid" || c == "crdb_region" || shard) {
            out[row.at(0).value_or("")].push_back(std::move(c));
        }
    }
    return out;
}

}  // namespace

std::map<std::string, TargetTable> load_target_tables(util::TargetSession& session,
                                                      const SchemaRef& schema,
                                                      const std::vector<std::string>& tables,
                                                      const std::string& database, bool cockroach) {
    std::map<std::string, TargetTable> out;
    if (tables.empty()) {
        return out;
    }
    // All of them in one round trip per query (three at most), not per table: against a
    // target in another region each costs tens of milliseconds, and a start reads them all.
    std::string names;
    util::TextArrayBuilder list(names);
    for (const std::string& t : tables) {
        list.add(t);
    }
    list.finish();
    // format_type(oid, NULL) spells bit and char without a length, which PostgreSQL reads as
    // bit(1) and char(1): an explicit cast to those would silently cut values. Cast such
    // columns through varbit or text instead and let the assignment enforce the length.
    // User-defined types (enums, domains, composites) and arrays of them are cast by their
    // schema-qualified, quoted names: format_type qualifies only what the search path does
    // not reach, and CockroachDB's returns a bare name. A column with a collation of its own
    // gets a COLLATE after the cast: CockroachDB requires one on every value written into a
    // collated string column, and on PostgreSQL it is what the column applies anyway.
    static const std::string kSql = R"(
SELECT c.relname, a.attname,
       CASE WHEN t.typtype IN ('e', 'd', 'c')
                 THEN quote_ident(tn.nspname) || '.' || quote_ident(t.typname)
            WHEN et.typtype IN ('e', 'd', 'c')
                 THEN quote_ident(etn.nspname) || '.' || quote_ident(et.typname) || '[]'
            ELSE CASE t.typname WHEN 'bit' THEN 'varbit' WHEN '_bit' THEN 'varbit[]'
                                WHEN 'bpchar' THEN 'text' WHEN '_bpchar' THEN 'text[]'
                                ELSE format_type(a.atttypid, NULL) END END
         || COALESCE(CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                 THEN ' COLLATE ' || CASE WHEN con.nspname = 'pg_catalog' THEN ''
                                          ELSE quote_ident(con.nspname) || '.' END
                      || quote_ident(co.collname)
                 ELSE '' END, ''),
       a.attgenerated <> '',
       a.attidentity = 'a',
       COALESCE((SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                 WHERE i.indrelid = c.oid AND i.indisprimary AND k.attnum = a.attnum), 0),
       t.typtype IN ('e', 'd', 'c') OR COALESCE(et.typtype IN ('e', 'd', 'c'), false)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace con ON con.oid = co.collnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum)";
    // Each table's primary key columns, by position in the key, as indexes into its columns.
    std::map<std::string, std::vector<std::pair<int, size_t>>> keys;
    for (const auto& row : session.query(in_database(kSql, database), {schema.schema, names})) {
        auto text = [&](size_t col) { return row.at(col).value_or(""); };
        std::string table = text(0);
        TargetTable& t = out[table];
        t.name = TableName{schema, table};
        TargetColumn c;
        c.name = text(1);
        c.cast_type = text(2);
        if (c.cast_type.empty()) {
            throw fatal(fmt::format(
                "cannot tell the type of column {} of target table {} from the target's "
                "catalog; please report it with the column's definition",
                quote_ident(c.name), t.name.display()));
        }
        if (!database.empty() && text(6) == "t") {
            // A user-defined type of another database than the connection's (CockroachDB).
            c.cast_type = quote_ident(database) + "." + c.cast_type;
        }
        // format_type spells it "date" (PostgreSQL) or "DATE" (CockroachDB).
        c.date = c.cast_type == "date" || c.cast_type == "DATE";
        c.generated = text(3) == "t";
        c.identity_always = text(4) == "t";
        c.pk_position = std::stoi(text(5));
        if (c.pk_position > 0) {
            keys[table].emplace_back(c.pk_position, t.columns.size());
        }
        t.columns.push_back(std::move(c));
    }
    if (out.empty()) {
        return out;
    }
    std::map<std::string, std::vector<std::string>> filled;
    if (cockroach) {
        filled = filled_hidden_columns(session, schema, names, database);
    }
    static const std::string kOrderSql = R"(
SELECT c.relname,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contype = 'f' AND (k.conrelid = c.oid OR k.confrelid = c.oid)),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary)
    OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('u', 'x'))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p'))";
    // Per table: referenced or referencing, unique-constrained.
    std::map<std::string, std::pair<bool, bool>> order_sensitive;
    for (const auto& row :
         session.query(in_database(kOrderSql, database), {schema.schema, names})) {
        order_sensitive[row.at(0).value_or("")] = {row.at(1).value_or("") != "f",
                                                   row.at(2).value_or("") != "f"};
    }
    for (auto& entry : out) {
        const std::string& table = entry.first;
        TargetTable& t = entry.second;  // (a structured binding cannot be captured below)
        std::vector<std::pair<int, size_t>>& pk = keys[table];
        std::sort(pk.begin(), pk.end());
        if (cockroach) {
            // The source cannot send what CockroachDB fills in, and need not: a shard column
            // is a function of the other key columns, and crdb_region does not take part in
            // uniqueness (a REGIONAL BY ROW table's key is unique across regions). A table
            // whose only key is the hidden rowid keeps no key at all, and TableMapping refuses
            // it.
            const std::vector<std::string>& hidden = filled[table];
            std::erase_if(pk, [&](const std::pair<int, size_t>& k) {
                TargetColumn& c = t.columns[k.second];
                if (std::find(hidden.begin(), hidden.end(), c.name) == hidden.end()) {
                    return false;
                }
                t.implicit_key.push_back(c.name);
                c.pk_position = 0;
                return true;
            });
        }
        // A table the query did not answer for (gone in between) counts as order-sensitive.
        auto o = order_sensitive.find(table);
        bool gone = o == order_sensitive.end();
        t.unique_constrained = gone || o->second.second;
        t.order_sensitive = gone || o->second.first || t.unique_constrained;
        for (auto& [pos, idx] : pk) {
            t.pk.push_back(idx);
        }
    }
    return out;
}

std::optional<TargetTable> load_target_table(util::TargetSession& session, const TableName& name,
                                             const std::string& database, bool cockroach) {
    auto tables = load_target_tables(session, name.schema, {name.table}, database, cockroach);
    auto it = tables.find(name.table);
    if (it == tables.end()) {
        return std::nullopt;
    }
    return std::move(it->second);
}

RowTies load_row_ties(util::TargetSession& session, const std::string& database) {
    // Types whose text form is canonical, so that equal values have equal texts (not
    // numeric's scales, citext, interval, floats' -0, padded char). uuid counts: PostgreSQL
    // prints it in one case, and the sources send what it printed (a MySQL CHAR(36) written
    // in mixed case would break this).
    constexpr std::string_view kCanonical =
        "('int2', 'int4', 'int8', 'text', 'varchar', 'uuid', 'date', 'bool')";
    // One row per column pair of each foreign key, in the key's order. A pair is comparable
    // when equal values have equal texts: one type and type modifier, a canonical one, and no
    // collation of its own.
    // (Format strings: {canonical} and {nulls_not_distinct} are filled in below.)
    static const std::string kKeys = R"(
SELECT cn.nspname || '.' || c.relname, k.conname, fn.nspname || '.' || f.relname,
       ca.attname, fa.attname,
       ca.atttypid = fa.atttypid AND ca.atttypmod = fa.atttypmod
           AND ct.typname IN {canonical}
           AND ca.attcollation IN (0, ct.typcollation) AND fa.attcollation IN (0, ft.typcollation)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
CROSS JOIN generate_subscripts(k.conkey, 1) AS s(i)
JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = k.conkey[s.i]
JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = k.confkey[s.i]
JOIN pg_type ct ON ct.oid = ca.atttypid
JOIN pg_type ft ON ft.oid = fa.atttypid
WHERE k.contype = 'f'
ORDER BY 1, 2, s.i)";
    // Unique indexes besides the primary key, one row per key column in the index's order
    // (indkey unnested as the layout query does; INCLUDE columns come after indnkeyatts; 0
    // stands for an expression). A partial index is not compared by value: a change of its
    // predicate's columns alone can put a row's value in or take it out. The column's
    // collation is checked, not one the index gives it of its own (indcollation's subscripts
    // differ between PostgreSQL and CockroachDB): such an index, if its collation is not
    // deterministic, could see equal values the texts tell apart, and the target then
    // refuses a reordered row (23505).
    static const std::string kUnique = R"(
SELECT n.nspname || '.' || c.relname, x.relname, coalesce(a.attname, ''),
       a.attname IS NOT NULL
           AND t.typname IN {canonical}
           AND a.attcollation IN (0, t.typcollation) AND i.indpred IS NULL,
       {nulls_not_distinct}
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class x ON x.oid = i.indexrelid
CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos)
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum AND k.attnum > 0
LEFT JOIN pg_type t ON t.oid = a.atttypid
WHERE i.indisunique AND NOT i.indisprimary AND c.relkind IN ('r', 'p') AND k.pos <= i.indnkeyatts
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'crdb_internal')
  AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY 1, 2, k.pos)";
    // NULLS NOT DISTINCT came with PostgreSQL 15; CockroachDB has no such column. (Asked of
    // the server's catalog, which every database shares: not through in_database().)
    static const std::string kHasNullsNotDistinct = R"(
SELECT count(*) FROM pg_attribute
WHERE attrelid = 'pg_catalog.pg_index'::regclass AND attname = 'indnullsnotdistinct')";
    // Unique constraints without an index (CockroachDB's UNIQUE WITHOUT INDEX) and exclusion
    // constraints tie rows in ways their columns' texts do not tell.
    static const std::string kWhole = R"(
SELECT DISTINCT n.nspname || '.' || c.relname
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND (k.contype = 'x'
       OR (k.contype = 'u' AND NOT EXISTS (SELECT 1 FROM pg_index i
                                           WHERE i.indexrelid = k.conindid AND i.indisunique))))";
    RowTies out;
    std::string last;
    std::string keys = fmt::format(fmt::runtime(kKeys), fmt::arg("canonical", kCanonical));
    for (const auto& row : session.query(in_database(keys, database))) {
        auto text = [&](size_t col) { return row.at(col).value_or(""); };
        std::string id = text(0) + "\n" + text(1);
        if (id != last) {
            out.foreign_keys.push_back(ForeignKeyColumns{text(0), text(2), {}, {}, true});
            last = id;
        }
        ForeignKeyColumns& fk = out.foreign_keys.back();
        fk.child_columns.push_back(text(3));
        fk.parent_columns.push_back(text(4));
        fk.comparable = fk.comparable && text(5) == "t";
    }
    auto has = session.query(kHasNullsNotDistinct);
    bool nulls_column = !has.empty() && has[0].at(0).value_or("0") != "0";
    std::string unique = fmt::format(
        fmt::runtime(kUnique), fmt::arg("canonical", kCanonical),
        fmt::arg("nulls_not_distinct", nulls_column ? "i.indnullsnotdistinct" : "false"));
    last.clear();
    for (const auto& row : session.query(in_database(unique, database))) {
        auto text = [&](size_t col) { return row.at(col).value_or(""); };
        std::string id = text(0) + "\n" + text(1);
        if (id != last) {
            out.unique_indexes.push_back(UniqueColumns{text(0), text(1), {}, true, text(4) != "t"});
            last = id;
        }
        UniqueColumns& u = out.unique_indexes.back();
        u.columns.push_back(text(2));
        u.comparable = u.comparable && text(3) == "t";
    }
    for (const auto& row : session.query(in_database(kWhole, database))) {
        out.tied_as_a_whole.push_back(row.at(0).value_or(""));
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> load_foreign_keys(util::TargetSession& session,
                                                                   const std::string& database) {
    static const std::string kSql = R"(
SELECT cn.nspname || '.' || c.relname, fn.nspname || '.' || f.relname
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE k.contype = 'f')";
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& row : session.query(in_database(kSql, database))) {
        out.emplace_back(row.at(0).value_or(""), row.at(1).value_or(""));
    }
    return out;
}

}  // namespace rep::target
