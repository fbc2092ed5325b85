#include "source/postgres/source_layouts.h"

#include <map>
#include <memory>

namespace rep::pg {

std::vector<SourceLayout> read_source_layouts(util::PgConn& conn, const std::string& publication,
                                              int server_version) {
    // The key flags follow pgoutput's: REPLICA IDENTITY FULL flags every column, NOTHING none,
    // DEFAULT the primary key's and INDEX the chosen index's. A type's family is read from
    // the element type for arrays and the base type for domains (one level: a domain over a
    // domain is rare enough to be judged by its own type).
    // INCLUDE columns of the index (PostgreSQL 11+) are not key columns; pgoutput does not
    // flag them.
    std::string index_keys =
        server_version >= 110000 ? "(i.indkey::int2[])[0:i.indnkeyatts - 1]" : "i.indkey::int2[]";
    std::string column_list =
        server_version >= 150000 ? "AND (pt.attnames IS NULL OR a.attname = ANY(pt.attnames))" : "";
    std::string sql = R"(
WITH cols AS (
  SELECT n.nspname, c.relname, c.relreplident, a.attnum, a.attname,
         a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod) AS type_name,
         CASE c.relreplident WHEN 'f' THEN true WHEN 'n' THEN false
           ELSE EXISTS (SELECT 1 FROM pg_index i
                        WHERE i.indrelid = c.oid AND a.attnum = ANY()" +
                      index_keys + R"()
                          AND CASE c.relreplident WHEN 'd' THEN i.indisprimary
                                                  ELSE i.indisreplident END) END AS is_key,
         CASE WHEN t.typcategory = 'A' THEN 'array of ' ELSE '' END AS prefix,
         COALESCE(et.oid, t.oid) AS elem
  FROM pg_publication_tables pt
  JOIN pg_namespace n ON n.nspname = pt.schemaname
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
  JOIN pg_attribute a ON a.attrelid = c.oid
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
  WHERE pt.pubname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    )" + column_list + R"(
)
SELECT cols.nspname, cols.relname, cols.relreplident::text, cols.attname,
       cols.atttypid::text, cols.atttypmod::text, cols.type_name, cols.is_key::text,
       CASE WHEN b.typtype = 'r' THEN cols.prefix || 'range'
            WHEN b.typtype = 'm' THEN cols.prefix || 'multirange'
            WHEN b.typcategory = 'G' THEN cols.prefix || 'geometric'
            WHEN b.typname IN ('xml', 'money', 'macaddr', 'macaddr8')
                 THEN cols.prefix || b.typname
            ELSE '' END
FROM cols
JOIN pg_type e ON e.oid = cols.elem
JOIN pg_type b ON b.oid = CASE WHEN e.typtype = 'd' THEN e.typbasetype ELSE e.oid END
ORDER BY cols.nspname, cols.relname, cols.attnum)";
    std::vector<SourceLayout> out;
    std::map<std::pair<std::string, std::string>, size_t> index;
    std::vector<std::shared_ptr<Relation>> relations;
    for (const auto& row : conn.query(sql, {publication})) {
        auto text = [&](size_t i) { return row.at(i).value_or(""); };
        auto key = std::make_pair(text(0), text(1));
        auto [it, fresh] = index.try_emplace(key, out.size());
        if (fresh) {
            auto rel = std::make_shared<Relation>();
            rel->schema = text(0);
            rel->name = text(1);
            rel->replica_identity = text(2).empty() ? 'd' : text(2)[0];
            relations.push_back(rel);
            out.push_back(SourceLayout{rel, {}, {}});
        }
        Relation& rel = *relations[it->second];
        SourceColumn c;
        c.name = text(3);
        c.type_oid = static_cast<uint32_t>(std::stoul(text(4)));
        c.type_mod = std::stoi(text(5));
        c.is_key = text(7) == "true";
        rel.columns.push_back(std::move(c));
        out[it->second].types.push_back(text(6));
        out[it->second].families.push_back(text(8));
    }
    return out;
}

}  // namespace rep::pg
