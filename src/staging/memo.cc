#include "staging/memo.h"

#include "base/error.h"

#include <fmt/format.h>

namespace rep::staging {

AppliedSet recover_applied(Memo& memo, util::TargetSession& conn, const std::string& key,
                           const PositionCodec& codec) {
    std::optional<std::string> text = memo.read(conn, key);
    std::optional<Ordinal> main;
    if (text) {
        auto position = codec.parse(*text);
        if (!position) {
            throw fatal(fmt::format(
                "the checkpoint in {} (key \"{}\") holds \"{}\", which is not a valid {}; fix "
                "or delete that row",
                memo.table_sql(), key, text->substr(0, 200), codec.kind()));
        }
        main = position->ordinal;
    }
    auto rows = memo.read_prefixed(conn, record_key_prefix(key));
    std::vector<WorkerRecord> records;
    records.reserve(rows.size());
    for (const auto& [k, v] : rows) {
        records.push_back(decode_record(v, k, codec));
    }
    AppliedSet set = AppliedSet::recover(main, records);
    if (rows.empty()) {
        return set;
    }
    if (!set.prefix().is_zero() && (!main || *main < set.prefix())) {
        memo.write(conn, key, codec.at(set.prefix()).text);
    }
    std::string carried = carried_record_key(key);
    if (!set.empty()) {
        memo.write(conn, carried, encode_record(set.as_record(), codec));
    }
    for (const auto& [k, v] : rows) {
        if (k != carried || set.empty()) {
            memo.remove(conn, k);
        }
    }
    return set;
}

Memo::Memo(const target::Dialect& dialect, SchemaRef staging_schema)
    : dialect_(dialect), schema_(std::move(staging_schema)) {}

void Memo::resolve(util::TargetSession& conn) {
    if (dialect_.product() == target::TargetProduct::kCockroach) {
        // On CockroachDB "_replicator" names a database (schema public), as in the original.
        std::string db = schema_.database.empty() ? schema_.schema : schema_.database;
        std::string sch = schema_.database.empty() ? "public" : schema_.schema;
        schema_sql_ = quote_ident(db) + "." + quote_ident(sch);
    } else {
        if (!schema_.database.empty()) {
            auto current = conn.query_value("SELECT current_database()");
            if (current != schema_.database) {
                throw fatal(fmt::format(
                    "--stagingSchema {} names database \"{}\", but the staging connection is to "
                    "database \"{}\" and PostgreSQL cannot write to another database; use "
                    "--stagingSchema {}.{} or point --stagingConn at database \"{}\"",
                    schema_.raw, schema_.database, current.value_or("?"), current.value_or("db"),
                    schema_.schema, schema_.database));
            }
        }
        schema_sql_ = quote_ident(schema_.schema);
    }
    table_ = schema_sql_ + ".memo";
}

void Memo::ensure(util::TargetSession& conn, bool create) {
    resolve(conn);
    bool cockroach = dialect_.product() == target::TargetProduct::kCockroach;
    if (create) {
        if (cockroach) {
            std::string db = schema_.database.empty() ? schema_.schema : schema_.database;
            conn.execute("CREATE DATABASE IF NOT EXISTS " + quote_ident(db));
        }
        conn.execute("CREATE SCHEMA IF NOT EXISTS " + schema_sql_);
        conn.execute(
            fmt::format("CREATE TABLE IF NOT EXISTS {} (key {} PRIMARY KEY, value {} NOT NULL)",
                        table_, cockroach ? "STRING" : "TEXT", cockroach ? "BYTES" : "BYTEA"));
        return;
    }
    try {
        conn.execute("SELECT 1 FROM " + table_ + " LIMIT 0");
    } catch (const Error& e) {
        if (e.sqlstate() == "42P01" || e.sqlstate() == "3F000" || e.sqlstate() == "3D000") {
            throw fatal(fmt::format(
                "staging table {} does not exist; pass --stagingCreateSchema on the first run to "
                "create the staging schema {}",
                table_, schema_.raw));
        }
        throw;
    }
}

std::optional<std::string> Memo::read(util::TargetSession& conn, const std::string& key) {
    return conn.query_value(
        fmt::format("SELECT convert_from(value, 'UTF8') FROM {} WHERE key = $1", table_), {key});
}

std::vector<std::pair<std::string, std::string>> Memo::read_prefixed(util::TargetSession& conn,
                                                                     const std::string& prefix) {
    // substr rather than LIKE: keys contain the target schema, which may hold '_' or '%'.
    // substr counts characters, so count the prefix's UTF-8 code points.
    size_t chars = 0;
    for (unsigned char c : prefix) {
        chars += (c & 0xC0) != 0x80;
    }
    auto rows = conn.query(
        fmt::format("SELECT key, convert_from(value, 'UTF8') FROM {} WHERE substr(key, 1, {}) = $1 "
                    "ORDER BY key",
                    table_, chars),
        {prefix});
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
        out.emplace_back(row.at(0).value_or(""), row.at(1).value_or(""));
    }
    return out;
}

void Memo::remove(util::TargetSession& conn, const std::string& key) {
    conn.execute(fmt::format("DELETE FROM {} WHERE key = $1", table_), {key});
}

std::string Memo::guard_sql() const {
    // Plain SQL on both targets, which have no RAISE outside functions: a text that is not a
    // number, cast to one at run time, is the error. Absent and different both fail.
    bool cockroach = dialect_.product() == target::TargetProduct::kCockroach;
    return fmt::format(
        "SELECT CAST(CASE WHEN count(*) = 1 THEN '1' ELSE '{}' END AS INT) FROM {} WHERE key = "
        "$1 AND value = {}",
        kChainBroken, table_, cockroach ? "$2::BYTES" : "convert_to($2, 'UTF8')");
}

std::string Memo::upsert_sql(size_t rows) const {
    bool cockroach = dialect_.product() == target::TargetProduct::kCockroach;
    std::string values;
    for (size_t i = 0; i < rows; ++i) {
        values += i == 0 ? "(" : ", (";
        values += cockroach ? fmt::format("${}, ${}::BYTES)", 2 * i + 1, 2 * i + 2)
                            : fmt::format("${}, convert_to(${}, 'UTF8'))", 2 * i + 1, 2 * i + 2);
    }
    return cockroach ? fmt::format("UPSERT INTO {} (key, value) VALUES {}", table_, values)
                     : fmt::format(
                           "INSERT INTO {} (key, value) VALUES {} ON CONFLICT (key) DO "
                           "UPDATE SET value = excluded.value",
                           table_, values);
}

void Memo::write(util::TargetSession& conn, const std::string& key, const std::string& value) {
    conn.execute(upsert_sql(1), {key, value});
}

}  // namespace rep::staging
