#include "source/mysql/mysql_preflight.h"

#include "base/error.h"
#include "source/mysql/gtid_set.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace rep::mysql {

ServerState preflight_source(const MysqlUrl& url, bool fetch_metadata) {
    ServerState state;
    MysqlConn conn(url);
    conn.connect();
    state.mariadb = conn.is_mariadb();
    spdlog::info("connected to {} version {} at {}", state.mariadb ? "MariaDB" : "MySQL",
                 conn.version(), url.redacted());
    auto var = [&](const std::string& name) {
        return conn.value("SELECT @@GLOBAL." + name).value_or("");
    };
    auto upper = [](std::string s) {
        for (auto& ch : s) {
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
        return s;
    };
    if (var("log_bin") != "1") {
        throw fatal(
            "binary logging is off on the source: start it with --log-bin (and "
            "--binlog-format=ROW) and restart the server");
    }
    if (upper(var("binlog_format")) != "ROW") {
        throw fatal(
            fmt::format("source binlog_format is {}, replication needs ROW: SET GLOBAL "
                        "binlog_format = 'ROW' (and in the server's configuration)",
                        var("binlog_format")));
    }
    if (upper(var("binlog_row_image")) != "FULL") {
        throw fatal(
            fmt::format("source binlog_row_image is {}, replication needs FULL: SET "
                        "GLOBAL binlog_row_image = 'FULL'",
                        var("binlog_row_image")));
    }
    if (!state.mariadb && upper(var("gtid_mode")) != "ON") {
        throw fatal(
            fmt::format("source gtid_mode is {}; mylogical replicates by GTID: set "
                        "gtid_mode=ON and enforce_gtid_consistency=ON",
                        var("gtid_mode")));
    }
    std::string metadata;
    try {
        metadata = upper(var("binlog_row_metadata"));
    } catch (const Error&) {
        // MySQL before 8.0.1 and MariaDB before 10.5 do not have the variable.
    }
    if (metadata != "FULL" && !fetch_metadata) {
        throw fatal(
            fmt::format("source binlog_row_metadata is {}: column names are not in the "
                        "binary log. SET GLOBAL binlog_row_metadata = 'FULL', or pass "
                        "--fetchMetadata to read them from information_schema",
                        metadata.empty() ? "not available" : metadata));
    }
    try {
        conn.query("SHOW BINARY LOGS");
    } catch (const Error& e) {
        throw fatal(
            fmt::format("the source user cannot read the binary log ({}); grant it "
                        "REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: "
                        "REPLICATION SLAVE, BINLOG MONITOR) ON *.*",
                        e.what()));
    }
    std::string in_scope = "NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')";
    if (!url.database.empty()) {
        std::string quoted;
        for (char ch : url.database) {
            quoted += ch == '\'' || ch == '\\' ? std::string(2, ch) : std::string(1, ch);
        }
        in_scope = "= '" + quoted + "'";
    }
    for (const auto& row : conn.query("SELECT DISTINCT table_name FROM information_schema.tables "
                                      "WHERE table_type = 'BASE TABLE' AND table_schema " +
                                      in_scope + " ORDER BY 1")) {
        state.tables.push_back(row.at(0).value_or(""));
    }
    // The columns as the binary log's table maps will list them, keyed by the primary key.
    // MySQL's types all have a text form that PostgreSQL's and CockroachDB's types of the
    // same kind take (docs/mylogical.md §4), so no family is set.
    for (const auto& row : conn.query(
             "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.COLUMN_KEY "
             "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
             "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
             "WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA " +
             in_scope + " ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION")) {
        std::string schema = row.at(0).value_or("");
        std::string table = row.at(1).value_or("");
        if (state.layouts.empty() || state.layouts.back().relation->schema != schema ||
            state.layouts.back().relation->name != table) {
            auto rel = std::make_shared<Relation>();
            rel->schema = schema;
            rel->name = table;
            state.layouts.push_back(SourceLayout{rel, {}, {}});
        }
        SourceLayout& layout = state.layouts.back();
        SourceColumn c;
        c.name = row.at(2).value_or("");
        c.is_key = row.at(4).value_or("") == "PRI";
        std::const_pointer_cast<Relation>(layout.relation)->columns.push_back(std::move(c));
        layout.types.push_back(row.at(3).value_or(""));
        layout.families.emplace_back();
    }
    if (state.mariadb) {
        state.executed = var("gtid_binlog_pos");
        // The oldest binary log starts with a GTID_LIST of everything before it: those
        // transactions are purged.
        auto logs = conn.query("SHOW BINARY LOGS");
        if (!logs.empty() && logs[0][0]) {
            for (const auto& ev :
                 conn.query("SHOW BINLOG EVENTS IN '" + *logs[0][0] + "' LIMIT 4")) {
                if (ev.size() > 5 && ev[2] == "Gtid_list" && ev[5]) {
                    std::string info = *ev[5];
                    info.erase(std::remove(info.begin(), info.end(), '['), info.end());
                    info.erase(std::remove(info.begin(), info.end(), ']'), info.end());
                    state.purged = info;
                }
            }
        }
    } else {
        state.executed = var("gtid_executed");
        state.purged = var("gtid_purged");
    }
    return state;
}

std::string check_start(const ServerState& server, const std::string& start,
                        const std::string& origin, bool accept_data_loss) {
    const char* flavour = server.mariadb ? "MariaDB" : "MySQL";
    if (!start.empty() && looks_like_mariadb_gtid(start) != server.mariadb) {
        throw fatal(fmt::format("GTID position \"{}\" ({}) is a {} GTID, but the source is {}",
                                start, origin, server.mariadb ? "MySQL" : "MariaDB", flavour));
    }
    if (server.mariadb ? !MariadbGtidList::parse(start) : !MysqlGtidSet::parse(start)) {
        throw fatal(fmt::format(
            "GTID position \"{}\" ({}) is not a valid {} GTID {}", start, origin, flavour,
            server.mariadb ? "list (domain-server-seq,...)" : "set (uuid:1-5,...)"));
    }
    if (server.purged.empty()) {
        return start;
    }
    // Transactions after the start position whose binary logs are purged can never be read:
    // refuse, or with --acceptDataLoss start after them.
    std::string accepted;
    if (server.mariadb) {
        auto purged = MariadbGtidList::parse(server.purged);
        auto from = MariadbGtidList::parse(start);
        if (!purged || !from) {
            return start;
        }
        bool gap = false;
        for (const auto& [domain, g] : purged->domains()) {
            if (g.seq > 0 && !from->contains(g)) {
                gap = true;
                from->add(g);
            }
        }
        if (!gap) {
            return start;
        }
        accepted = from->str();
    } else {
        auto purged = MysqlGtidSet::parse(server.purged);
        auto from = MysqlGtidSet::parse(start);
        if (!purged || !from || from->contains(*purged)) {
            return start;
        }
        from->add(*purged);
        accepted = from->str();
    }
    std::string gap = fmt::format(
        "the source has purged binary logs with transactions after GTID position \"{}\" ({}; "
        "purged: {}): they can no longer be replicated",
        start.empty() ? std::string("(none)") : start, origin, server.purged);
    if (!accept_data_loss) {
        throw fatal(gap +
                    ". Take a new snapshot and start from its GTID position (delete the memo "
                    "row, pass the new --defaultGTIDSet); or, to go on and accept the loss, run "
                    "once with --acceptDataLoss");
    }
    spdlog::warn("{}; going on after them ({}) because of --acceptDataLoss", gap, accepted);
    return accepted;
}

}  // namespace rep::mysql
