#include "target/target_schema.h"

#include "util/pg_conn.h"

#include <algorithm>

namespace rep {

std::optional<size_t> TargetTable::find(const std::string& column) const {
    for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].name == column) {
            return i;
        }
    }
    return std::nullopt;
}

bool TargetTable::has_identity_always() const {
    return std::any_of(columns.begin(), columns.end(),
                       [](const TargetColumn& c) { return c.identity_always; });
}

std::optional<TargetTable> load_target_table(PgConn& conn, const TableName& name) {
    // format_type(oid, NULL) spells bit and char without a length, which PostgreSQL reads as
    // bit(1) and char(1): an explicit cast to those would silently cut values. Cast such
    // columns through varbit or text instead and let the assignment enforce the length.
    static const std::string kSql = R"(
SELECT a.attname,
       CASE t.typname WHEN 'bit' THEN 'varbit' WHEN '_bit' THEN 'varbit[]'
                      WHEN 'bpchar' THEN 'text' WHEN '_bpchar' THEN 'text[]'
                      ELSE format_type(a.atttypid, NULL) END,
       a.attgenerated <> '',
       a.attidentity = 'a',
       COALESCE((SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                 WHERE i.indrelid = c.oid AND i.indisprimary AND k.attnum = a.attnum), 0)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum)";
    PgResult r = conn.exec_params(kSql, {name.schema.schema, name.table});
    int n = PQntuples(r.get());
    if (n == 0) {
        return std::nullopt;
    }
    TargetTable t;
    t.name = name;
    std::vector<std::pair<int, size_t>> pk;
    for (int i = 0; i < n; ++i) {
        TargetColumn c;
        c.name = PQgetvalue(r.get(), i, 0);
        c.cast_type = PQgetvalue(r.get(), i, 1);
        c.generated = PQgetvalue(r.get(), i, 2)[0] == 't';
        c.identity_always = PQgetvalue(r.get(), i, 3)[0] == 't';
        c.pk_position = std::stoi(PQgetvalue(r.get(), i, 4));
        if (c.pk_position > 0) {
            pk.emplace_back(c.pk_position, t.columns.size());
        }
        t.columns.push_back(std::move(c));
    }
    std::sort(pk.begin(), pk.end());
    static const std::string kOrderSql = R"(
SELECT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contype = 'f' AND (k.conrelid = c.oid OR k.confrelid = c.oid))
    OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2)";
    t.order_sensitive = conn.query_value(kOrderSql, {name.schema.schema, name.table}) != "f";
    for (auto& [pos, idx] : pk) {
        t.pk.push_back(idx);
    }
    return t;
}

}  // namespace rep
