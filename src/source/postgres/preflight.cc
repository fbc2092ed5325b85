#include "source/postgres/preflight.h"

#include "base/error.h"
#include "core/table_name.h"
#include "source/postgres/source_layouts.h"
#include "util/pg_conn.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace rep::pg {
namespace {

std::string list(const std::vector<util::TargetSession::Row>& rows, size_t col) {
    std::string out;
    for (size_t i = 0; i < rows.size() && i < 10; ++i) {
        out += (i > 0 ? "; " : "") + rows[i].at(col).value_or("");
    }
    return out + (rows.size() > 10 ? fmt::format("; and {} more", rows.size() - 10) : "");
}

// The publication's tables must each go to a target table of their own, and each must be
// unable to hold two rows the target's primary key would merge into one: both would
// otherwise lose or overwrite rows without an error.
void check_publication_tables(util::PgConn& conn, const std::string& publication) {
    // The target schema holds every source schema's tables under their bare names.
    auto same_name = conn.query(
        "SELECT tablename, string_agg(quote_ident(schemaname) || '.' || quote_ident(tablename), "
        "' and ' ORDER BY schemaname) FROM pg_publication_tables WHERE pubname = $1 "
        "GROUP BY tablename HAVING count(*) > 1 ORDER BY tablename",
        {publication});
    if (!same_name.empty()) {
        throw fatal(fmt::format(
            "publication \"{}\" has tables of the same name in different schemas ({}); all of "
            "them would be written to one target table in --targetSchema, merging their rows. "
            "Replicate each source schema separately (a publication, a slot and a replicator "
            "each, with its own --targetSchema), or leave all but one out of the publication",
            publication, list(same_name, 1)));
    }
    // A table with neither a primary key nor a unique index on NOT NULL columns may hold
    // duplicate rows (REPLICA IDENTITY FULL replicates them); the target's key would keep one.
    auto keyless = conn.query(
        "SELECT quote_ident(pt.schemaname) || '.' || quote_ident(pt.tablename) "
        "FROM pg_publication_tables pt "
        "JOIN pg_namespace n ON n.nspname = pt.schemaname "
        "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
        "WHERE pt.pubname = $1 AND NOT EXISTS ("
        "  SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique "
        "    AND i.indpred IS NULL AND i.indexprs IS NULL AND NOT EXISTS ("
        "      SELECT 1 FROM unnest(i.indkey) AS k(attnum) JOIN pg_attribute a "
        "        ON a.attrelid = c.oid AND a.attnum = k.attnum WHERE NOT a.attnotnull)) "
        "ORDER BY 1",
        {publication});
    if (!keyless.empty()) {
        throw fatal(fmt::format(
            "source table(s) {} in publication \"{}\" have no primary key and no unique index "
            "on NOT NULL columns, so they can hold duplicate rows, which the target's primary "
            "key would silently merge into one. Add a primary key on the source (ALTER TABLE "
            "... ADD PRIMARY KEY (...)), or leave the table out of the publication",
            list(keyless, 0), publication));
    }
}

}  // namespace

SlotState preflight_source(const std::string& conninfo, const std::string& slot,
                           const std::string& publication, bool create) {
    util::PgConn conn(conninfo, "source");
    conn.connect();
    SlotState state;
    state.server_version = conn.server_version();
    if (state.server_version < 100000) {
        throw fatal(
            fmt::format("source is PostgreSQL {}; logical replication with pgoutput needs "
                        "version 10 or later",
                        state.server_version));
    }
    auto wal_level = conn.query_value("SHOW wal_level");
    if (wal_level != "logical") {
        throw fatal(fmt::format(
            "source wal_level is {}, logical replication needs logical: run ALTER SYSTEM SET "
            "wal_level = 'logical'; on the source and restart it",
            wal_level.value_or("unknown")));
    }
    if (conn.query_value("SELECT pg_is_in_recovery()::text") == "true") {
        throw fatal("the source is a standby; --sourceConn must point at the primary");
    }
    std::string db = conn.query_value("SELECT current_database()").value_or("");
    // The walsender converts text to our client_encoding (UTF8) from any server encoding but
    // SQL_ASCII, which declares none: its bytes pass as stored, and a value that is not UTF-8
    // stops the stream at the source (22021), however far into the run it comes.
    if (conn.query_value("SHOW server_encoding") == "SQL_ASCII") {
        spdlog::warn(
            "source database \"{}\" has encoding SQL_ASCII: text is sent as the bytes stored, "
            "and a value that is not valid UTF-8 stops replication (SQLSTATE 22021 from the "
            "source). Correct such values, or move the data to a database with encoding UTF8",
            db);
    }

    auto pub =
        conn.query_value("SELECT pubname FROM pg_publication WHERE pubname = $1", {publication});
    if (!pub) {
        std::string sql =
            fmt::format("CREATE PUBLICATION {} FOR ALL TABLES;", quote_ident(publication));
        if (!create) {
            throw fatal(fmt::format(
                "publication \"{}\" does not exist in source database \"{}\": run {} in the "
                "source database (or list the tables to replicate), or pass "
                "--createSlotAndPublication",
                publication, db, sql));
        }
        conn.exec(sql);
        spdlog::info("created publication {} on the source", publication);
    }
    check_publication_tables(conn, publication);
    for (const auto& row : conn.query("SELECT DISTINCT tablename FROM pg_publication_tables "
                                      "WHERE pubname = $1 ORDER BY 1",
                                      {publication})) {
        state.tables.push_back(row.at(0).value_or(""));
    }
    state.layouts = read_source_layouts(conn, publication, state.server_version);

    util::PgResult r = conn.exec_params(
        "SELECT plugin, database, confirmed_flush_lsn::text, active_pid FROM pg_replication_slots "
        "WHERE slot_name = $1",
        {slot});
    if (PQntuples(r.get()) == 0) {
        std::string sql =
            fmt::format("SELECT pg_create_logical_replication_slot('{}', 'pgoutput');", slot);
        if (!create) {
            throw fatal(fmt::format(
                "replication slot \"{}\" does not exist: run {} in source database \"{}\" "
                "before the initial data load, or pass --createSlotAndPublication when starting "
                "from an empty target",
                slot, sql, db));
        }
        conn.exec_params("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", {slot});
        spdlog::info("created replication slot {} on the source", slot);
        r = conn.exec_params(
            "SELECT plugin, database, confirmed_flush_lsn::text, active_pid FROM "
            "pg_replication_slots WHERE slot_name = $1",
            {slot});
    }
    std::string plugin = PQgetvalue(r.get(), 0, 0);
    std::string slot_db = PQgetvalue(r.get(), 0, 1);
    if (plugin != "pgoutput") {
        throw fatal(
            fmt::format("replication slot \"{}\" uses plugin {}, not pgoutput; drop it and "
                        "create it with SELECT pg_create_logical_replication_slot('{}', "
                        "'pgoutput');",
                        slot, plugin, slot));
    }
    if (slot_db != db) {
        throw fatal(
            fmt::format("replication slot \"{}\" belongs to database \"{}\", but --sourceConn "
                        "connects to \"{}\"",
                        slot, slot_db, db));
    }
    if (!PQgetisnull(r.get(), 0, 3)) {
        spdlog::warn(
            "replication slot {} is in use by source process {}; starting will be retried "
            "(--maxRetries) until it is released",
            slot, PQgetvalue(r.get(), 0, 3));
    }
    if (!PQgetisnull(r.get(), 0, 2)) {
        state.confirmed_flush = Lsn::parse(PQgetvalue(r.get(), 0, 2)).value_or(Lsn());
    }
    return state;
}

}  // namespace rep::pg
