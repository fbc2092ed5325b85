#include "app/mylogical_app.h"

#include "base/error.h"
#include "source/mysql/binlog_conn.h"
#include "source/mysql/binlog_reader.h"
#include "source/mysql/gtid_set.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace rep {
namespace {

class MylogicalSource final : public SourceAdapter {
public:
    explicit MylogicalSource(const MylogicalConfig& c)
        : c_(c), url_(mysql::MysqlUrl::parse(c.source_conn)), monitor_conn_(url_) {}

    std::string name() const override { return "mylogical"; }

    std::string memo_key(const SchemaRef& target_schema) const override {
        return "mysql-wal-offset-" + target_schema.raw;
    }

    void preflight() override {
        mysql::MysqlConn conn(url_);
        conn.connect();
        mariadb_ = conn.is_mariadb();
        spdlog::info("connected to {} version {} at {}", mariadb_ ? "MariaDB" : "MySQL",
                     conn.version(), url_.redacted());
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
        if (!mariadb_ && upper(var("gtid_mode")) != "ON") {
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
        if (metadata != "FULL" && !c_.fetch_metadata) {
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
        if (mariadb_) {
            current_ = var("gtid_binlog_pos");
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
                        purged_ = info;
                    }
                }
            }
        } else {
            current_ = var("gtid_executed");
            purged_ = var("gtid_purged");
        }
    }

    void choose_start(const std::optional<std::string>& saved, const std::string& table) override {
        std::string origin;
        if (saved) {
            start_ = *saved;
            origin = "saved in " + table + " (--defaultGTIDSet is ignored)";
        } else if (!c_.default_gtid_set.empty()) {
            start_ = c_.default_gtid_set;
            origin = "from --defaultGTIDSet";
        } else {
            start_.clear();
            origin = "none given: from the oldest binary log the source keeps";
        }
        if (!start_.empty() && mysql::looks_like_mariadb_gtid(start_) != mariadb_) {
            throw fatal(fmt::format("GTID position \"{}\" ({}) is a {} GTID, but the source is {}",
                                    start_, origin, mariadb_ ? "MySQL" : "MariaDB",
                                    mariadb_ ? "MariaDB" : "MySQL"));
        }
        if (mariadb_ ? !mysql::MariadbGtidList::parse(start_)
                     : !mysql::MysqlGtidSet::parse(start_)) {
            throw fatal(
                fmt::format("GTID position \"{}\" ({}) is not a valid {} GTID {}", start_, origin,
                            mariadb_ ? "MariaDB" : "MySQL",
                            mariadb_ ? "list (domain-server-seq,...)" : "set (uuid:1-5,...)"));
        }
        if (mariadb_ && !purged_.empty()) {
            auto purged = mysql::MariadbGtidList::parse(purged_);
            auto start = mysql::MariadbGtidList::parse(start_);
            if (purged && start) {
                for (const auto& [domain, g] : purged->domains()) {
                    if (g.seq > 0 && !start->contains(g)) {
                        throw fatal(fmt::format(
                            "the source has purged binary logs with transactions after GTID "
                            "position \"{}\" (its oldest binary log starts after {}); they can no "
                            "longer be replicated: take a new snapshot and start from its GTID "
                            "position (delete the memo row, pass the new --defaultGTIDSet)",
                            start_.empty() ? std::string("(none)") : start_, purged_));
                    }
                }
            }
        }
        if (!mariadb_ && !purged_.empty()) {
            auto purged = mysql::MysqlGtidSet::parse(purged_);
            auto start = mysql::MysqlGtidSet::parse(start_);
            if (purged && start && !start->contains(*purged)) {
                throw fatal(
                    fmt::format("the source has purged transactions after GTID set {} "
                                "(gtid_purged is {}); they can no longer be replicated: "
                                "take a new snapshot and start from its GTID set",
                                start_, purged_));
            }
        }
        spdlog::info("resuming from GTID {} ({}); the source is at {}",
                     start_.empty() ? "(none)" : start_, origin, current_);
    }

    void run_reader(BoundedQueue<ChangeItem>& queue, Progress& progress, metrics::Probe& probe,
                    const std::atomic<bool>& stop) override {
        mysql::BinlogReaderOptions o;
        o.url = url_;
        o.server_id = c_.replication_process_id;
        o.chunk_rows = c_.flush_size;
        o.fetch_metadata = c_.fetch_metadata;
        o.values = c_.values;
        mysql::BinlogReader reader(o, queue, progress, probe);
        std::string from = progress.checkpoint();
        reader.run(from.empty() ? start_ : from, stop);
    }

    std::string check_source(metrics::Probe&) override {
        try {
            monitor_conn_.value("SELECT 1");
            return "";
        } catch (const Error& e) {
            monitor_conn_.close();
            return std::string("source unreachable: ") + e.what();
        }
    }

    nlohmann::json describe() const override {
        return {{"sourceConn", url_.redacted()},
                {"defaultGTIDSet", c_.default_gtid_set},
                {"fetchMetadata", c_.fetch_metadata},
                {"replicationProcessID", c_.replication_process_id},
                {"zeroDates",
                 c_.values.zero_date == mysql::ValueOptions::ZeroDate::kNull ? "null" : "error"}};
    }

    std::string describe_position(const Progress& progress) const override {
        std::string cp = progress.checkpoint();
        return "GTID " + (cp.empty() ? (start_.empty() ? std::string("(none)") : start_) : cp);
    }

private:
    const MylogicalConfig& c_;
    mysql::MysqlUrl url_;
    mysql::MysqlConn monitor_conn_;  // used only from the monitor thread
    bool mariadb_ = false;
    std::string start_;
    std::string current_;
    std::string purged_;
};

}  // namespace

int run_mylogical(const MylogicalConfig& config) {
    MylogicalSource source(config);
    return run_replication(config, source);
}

}  // namespace rep
