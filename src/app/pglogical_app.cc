#include "app/pglogical_app.h"

#include "base/conninfo.h"
#include "base/error.h"
#include "source/postgres/preflight.h"
#include "source/postgres/wal_reader.h"
#include "staging/memo.h"
#include "util/pg_conn.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace rep {
namespace {

class PglogicalSource final : public SourceAdapter {
public:
    explicit PglogicalSource(const PglogicalConfig& c)
        : c_(c), monitor_conn_(c.source_conn, "source") {
        monitor_conn_.set_connect_timeout(3);
        monitor_conn_.set_session_sql(
            {"SET application_name = 'replicator-monitor'", "SET statement_timeout = 3000"});
    }

    std::string name() const override { return "pglogical"; }

    std::string memo_key(const SchemaRef& target_schema) const override {
        return pglogical_memo_key(target_schema);
    }

    void preflight() override {
        slot_ = pg::preflight_source(c_.source_conn, c_.slot_name, c_.publication_name,
                                     c_.create_slot_and_publication);
        spdlog::info("connected to source {} (PostgreSQL {}.{})", redact_conninfo(c_.source_conn),
                     slot_.server_version / 10000, slot_.server_version % 10000);
    }

    void choose_start(const std::optional<std::string>& saved, const std::string& table) override {
        if (!saved) {
            spdlog::info("no checkpoint in {} yet; starting at the slot's confirmed position {}",
                         table, slot_.confirmed_flush.str());
            return;
        }
        auto lsn = Lsn::parse(*saved);
        if (!lsn) {
            throw fatal(
                fmt::format("the pglogical checkpoint in {} holds \"{}\", which is not an "
                            "LSN; fix or delete that row",
                            table, *saved));
        }
        start_ = *lsn;
        spdlog::info("resuming from LSN {} saved in {} (slot confirmed at {})", start_.str(), table,
                     slot_.confirmed_flush.str());
    }

    void run_reader(BoundedQueue<ChangeItem>& queue, Progress& progress, metrics::Probe& probe,
                    const std::atomic<bool>& stop) override {
        progress.advance(start_);
        pg::WalReaderOptions ro;
        ro.conninfo = c_.source_conn;
        ro.slot = c_.slot_name;
        ro.publication = c_.publication_name;
        ro.standby_timeout = c_.standby_timeout;
        ro.chunk_rows = c_.flush_size;
        ro.spool_dir = c_.data_dir / "pglogical-spool";
        ro.allow_streaming = c_.allow_streaming;
        pg::WalReader reader(ro, queue, progress, probe);
        reader.run(progress.get(), stop);
    }

    std::string check_source(metrics::Probe& probe) override {
        try {
            PgResult r = monitor_conn_.exec_params(
                "SELECT pg_current_wal_lsn()::text, restart_lsn::text, confirmed_flush_lsn::text "
                "FROM pg_replication_slots WHERE slot_name = $1",
                {c_.slot_name});
            if (PQntuples(r.get()) != 1) {
                return "replication slot " + c_.slot_name + " no longer exists on the source";
            }
            auto lsn = [&](int col) {
                return PQgetisnull(r.get(), 0, col) != 0
                           ? Lsn()
                           : Lsn::parse(PQgetvalue(r.get(), 0, col)).value_or(Lsn());
            };
            probe.set_source_wal(lsn(0), lsn(1), lsn(2));
            return "";
        } catch (const Error& e) {
            monitor_conn_.close();
            return std::string("source unreachable: ") + e.what();
        }
    }

    nlohmann::json describe() const override {
        return {{"sourceConn", redact_conninfo(c_.source_conn)},
                {"slotName", c_.slot_name},
                {"publicationName", c_.publication_name},
                {"createSlotAndPublication", c_.create_slot_and_publication},
                {"standbyTimeout", format_go_duration(c_.standby_timeout)},
                {"disableStreaming", !c_.allow_streaming},
                {"parallelism", c_.parallelism},
                {"targetMaxPoolSize", c_.target_max_pool_size},
                {"enableParallelApplies", c_.enable_parallel_applies}};
    }

    std::string describe_position(const Progress& progress) const override {
        return "LSN " + progress.get().str();
    }

    bool parallel_apply() const override { return true; }

private:
    const PglogicalConfig& c_;
    PgConn monitor_conn_;  // used only from the monitor thread
    pg::SlotState slot_;
    Lsn start_;
};

}  // namespace

int run_pglogical(const PglogicalConfig& config) {
    PglogicalSource source(config);
    return run_replication(config, source);
}

}  // namespace rep
