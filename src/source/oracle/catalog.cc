#include "source/oracle/catalog.h"

#include "base/error.h"
#include "source/oracle/logminer_sql.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

namespace rep::oracle {

void check_database(OciSession& cdb) {
    std::vector<TextRow> rows = cdb.query_all(sql::database_settings(), 5);
    if (rows.size() != 1) {
        throw fatal("V$DATABASE returned no row");
    }
    auto v = [&](size_t i) { return rows[0][i].value_or(""); };
    if (v(0) != "ARCHIVELOG") {
        throw setup_error(fmt::format(
            "the Oracle database is in {} mode: LogMiner needs ARCHIVELOG mode (SHUTDOWN "
            "IMMEDIATE; STARTUP MOUNT; ALTER DATABASE ARCHIVELOG; ALTER DATABASE OPEN)",
            v(0)));
    }
    if (v(2) != "YES" && v(2) != "IMPLICIT") {
        throw setup_error(
            "minimal supplemental logging is off, so LogMiner cannot tell which rows changed: "
            "ALTER DATABASE ADD SUPPLEMENTAL LOG DATA");
    }
    if (v(1) != "YES") {
        spdlog::warn(
            "FORCE LOGGING is off: NOLOGGING operations on the replicated tables would "
            "not reach the redo (ALTER DATABASE FORCE LOGGING)");
    }
    if (v(3) != "YES") {
        spdlog::warn(
            "database-wide supplemental logging of primary keys is off: every replicated "
            "table needs ALTER TABLE ... ADD SUPPLEMENTAL LOG DATA (PRIMARY KEY) "
            "COLUMNS, or updates and deletes will stop replication");
    }
}

std::string container_name(OciSession& pdb) {
    std::vector<TextRow> rows = pdb.query_all(sql::container_name(), 1);
    if (rows.empty() || !rows[0][0]) {
        throw fatal("the PDB connection did not name its container");
    }
    return *rows[0][0];
}

std::map<std::string, OracleTable> read_catalog(OciSession& session, const std::string& schema,
                                                bool* sentinel) {
    std::set<std::pair<std::string, std::string>> keys;
    for (const TextRow& r : session.query_all(sql::primary_keys(), 2, {schema})) {
        keys.emplace(r[0].value_or(""), r[1].value_or(""));
    }
    std::map<std::string, std::vector<OracleColumn>> columns;
    for (const TextRow& r : session.query_all(sql::table_columns(), 3, {schema})) {
        std::string table = r[0].value_or("");
        std::string column = r[1].value_or("");
        columns[table].push_back(
            OracleColumn{column, r[2].value_or(""), keys.contains({table, column})});
    }
    if (columns.empty()) {
        throw setup_error(fmt::format(
            "schema {} has no tables the replication user can see (ALL_TABLES): check "
            "--sourceSchema (Oracle stores unquoted names in upper case) and the grants",
            schema));
    }
    *sentinel = columns.erase(sql::kSentinelTable) > 0;
    std::map<std::string, OracleTable> out;
    for (const auto& [table, cols] : columns) {
        out.emplace(table, make_table(schema, table, cols));
    }
    return out;
}

}  // namespace rep::oracle
