#include "source/postgres/preflight.h"

#include "base/error.h"
#include "core/table_name.h"
#include "util/pg_conn.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace rep::pg {

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
