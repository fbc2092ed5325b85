#include "source/mysql/mylogical_source.h"

#include "base/error.h"
#include "source/mysql/binlog_conn.h"
#include "source/mysql/binlog_reader.h"
#include "source/mysql/gtid_codec.h"
#include "source/mysql/mysql_preflight.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace rep::mysql {
namespace {

class MylogicalSource final : public source::Source {
public:
    explicit MylogicalSource(const MylogicalConfig& c)
        : c_(c), url_(MysqlUrl::parse(c.source_conn)), monitor_conn_(url_) {}

    std::string name() const override { return "mylogical"; }
    const PositionCodec& codec() const override { return codec_; }
    std::string memo_key(const SchemaRef& target_schema) const override {
        return mylogical_memo_key(target_schema);
    }

    void add_metrics(metrics::Probe& probe, const Progress& progress) override {
        const Progress* p = &progress;
        probe.add_gauge("mylogical_confirmed_transactions",
                        "Transactions in the GTID set up to which the target has applied "
                        "everything (MariaDB: the sum of the domains' sequence numbers)",
                        [p]() -> std::optional<double> {
                            auto n = gtid_transactions(p->get().text);
                            return n ? std::optional<double>(static_cast<double>(*n))
                                     : std::nullopt;
                        });
        probe.add_gauge("mylogical_source_backlog_transactions",
                        "Transactions the source has executed that are not yet applied",
                        [this, p]() -> std::optional<double> {
                            auto b = backlog(*p);
                            return b ? std::optional<double>(b->remaining) : std::nullopt;
                        });
    }

    void preflight() override {
        server_ = preflight_source(url_, c_.fetch_metadata);
        flavour_ = server_.mariadb ? kMariadb : kMysql;
    }

    std::vector<std::string> table_names() const override { return server_.tables; }
    std::vector<SourceLayout> table_layouts() const override { return server_.layouts; }

    // The server ends an older binary log connection with the same server id (this
    // process's --replicationProcessID) when this one registers: nothing to do here.
    void take_over() override {}

    Position choose_start(const std::optional<Position>& checkpoint,
                          const std::string& table) override {
        std::string origin;
        std::string start;
        if (checkpoint) {
            start = checkpoint->text;
            origin = "saved in " + table + " (--defaultGTIDSet is ignored)";
        } else if (!c_.default_gtid_set.empty()) {
            start = c_.default_gtid_set;
            origin = "from --defaultGTIDSet";
        } else {
            origin = "none given: from the oldest binary log the source keeps";
        }
        start = check_start(server_, start, origin, c_.accept_data_loss);
        spdlog::info("resuming from GTID {} ({}); the source is at {}",
                     start.empty() ? "(none)" : start, origin, server_.executed);
        return Position{Ordinal(), start};
    }

    void run(source::ChangeSink& sink, Progress& progress, metrics::Probe& probe,
             const std::atomic<bool>& stop) override {
        BinlogReaderOptions o;
        o.url = url_;
        o.server_id = c_.replication_process_id;
        o.fetch_metadata = c_.fetch_metadata;
        o.values = c_.values;
        BinlogReader reader(o, sink, progress, probe);
        reader.run(progress.get().text, stop);
    }

    std::string check() override {
        try {
            // Before preflight the flavour is not known: only check that the source answers.
            int flavour = flavour_.load();
            auto executed =
                monitor_conn_.value(flavour == kUnknown   ? "SELECT ''"
                                    : flavour == kMariadb ? "SELECT @@GLOBAL.gtid_binlog_pos"
                                                          : "SELECT @@GLOBAL.gtid_executed");
            std::lock_guard lock(mu_);
            source_executed_ = executed.value_or("");
            return "";
        } catch (const Error& e) {
            monitor_conn_.close();
            return std::string("source unreachable: ") + e.what();
        }
    }

    std::optional<source::Backlog> backlog(const Progress& progress) const override {
        std::string executed;
        {
            std::lock_guard lock(mu_);
            executed = source_executed_;
        }
        auto source = gtid_transactions(executed);
        auto confirmed = gtid_transactions(progress.get().text);
        if (executed.empty() || !source || !confirmed) {
            return std::nullopt;
        }
        return source::Backlog{static_cast<double>(*source - std::min(*source, *confirmed)),
                               static_cast<double>(*confirmed), "transactions"};
    }

    nlohmann::json describe() const override {
        return {
            {"sourceConn", url_.redacted()},
            {"defaultGTIDSet", c_.default_gtid_set},
            {"fetchMetadata", c_.fetch_metadata},
            {"replicationProcessID", c_.replication_process_id},
            {"acceptDataLoss", c_.accept_data_loss},
            {"zeroDates", c_.values.zero_date == ValueOptions::ZeroDate::kNull ? "null" : "error"}};
    }

    nlohmann::json positions(const Progress& progress, const metrics::Probe&) const override {
        std::lock_guard lock(mu_);
        return {{"confirmed_gtid_set", progress.get().text},
                {"source_gtid_executed", source_executed_}};
    }

private:
    const MylogicalConfig& c_;
    GtidCodec codec_;
    MysqlUrl url_;
    MysqlConn monitor_conn_;  // used only from the monitor thread
    ServerState server_;      // set by preflight, before the pipeline runs
    enum Flavour { kUnknown, kMysql, kMariadb };
    std::atomic<int> flavour_{kUnknown};  // server_.mariadb, for the monitor thread
    mutable std::mutex mu_;
    std::string source_executed_;  // from the monitor's last successful check
};

}  // namespace

std::string mylogical_memo_key(const SchemaRef& target_schema) {
    return "mysql-wal-offset-" + target_schema.raw;
}

std::unique_ptr<source::Source> make_mylogical_source(const MylogicalConfig& config) {
    return std::make_unique<MylogicalSource>(config);
}

}  // namespace rep::mysql
