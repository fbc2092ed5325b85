#include "source/postgres/pglogical_source.h"

#include "base/conninfo.h"
#include "base/error.h"
#include "source/postgres/lsn.h"
#include "source/postgres/lsn_codec.h"
#include "source/postgres/preflight.h"
#include "source/postgres/wal_reader.h"
#include "util/pg_conn.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

namespace rep::pg {
namespace {

class PglogicalSource final : public source::Source {
public:
    explicit PglogicalSource(const PglogicalConfig& c)
        : c_(c), monitor_conn_(c.source_conn, "source") {
        monitor_conn_.set_connect_timeout(3);
        monitor_conn_.set_response_timeout(std::chrono::seconds(10));
        monitor_conn_.set_session_sql(
            {"SET application_name = 'replicator-monitor'", "SET statement_timeout = 3000"});
    }

    std::string name() const override { return "pglogical"; }
    const PositionCodec& codec() const override { return codec_; }
    std::string memo_key(const SchemaRef& target_schema) const override {
        return pglogical_memo_key(target_schema);
    }

    void add_metrics(metrics::Probe& probe, const Progress& progress) override {
        const Progress* p = &progress;
        const metrics::Probe* pr = &probe;
        probe.add_gauge(
            "pglogical_confirmed_lsn",
            "LSN up to which the target has applied everything (reported to the "
            "slot), as a number",
            [p] { return std::optional<double>(static_cast<double>(p->confirmable().value())); });
        probe.add_gauge(
            "pglogical_checkpoint_lsn",
            "LSN of the last checkpoint written to the staging memo table, as a "
            "number",
            [pr] { return std::optional<double>(static_cast<double>(pr->checkpoint().value())); });
        probe.add_gauge("pglogical_slot_retained_wal_bytes",
                        "Bytes of WAL the source keeps for the replication slot", [this] {
                            uint64_t cur = current_wal_.load();
                            uint64_t restart = slot_restart_.load();
                            return cur == 0 || restart == 0
                                       ? std::nullopt
                                       : std::optional<double>(
                                             static_cast<double>(cur - std::min(cur, restart)));
                        });
        probe.add_gauge("pglogical_source_backlog_bytes",
                        "Bytes of source WAL not yet confirmed as applied", [this, p] {
                            uint64_t cur = current_wal_.load();
                            uint64_t confirmed = p->confirmable().value();
                            return cur == 0 ? std::nullopt
                                            : std::optional<double>(cur - std::min(cur, confirmed));
                        });
    }

    void preflight() override {
        slot_ = preflight_source(c_.source_conn, c_.slot_name, c_.publication_name,
                                 c_.create_slot_and_publication);
        spdlog::info("connected to source {} (PostgreSQL {}.{})", redact_conninfo(c_.source_conn),
                     slot_.server_version / 10000, slot_.server_version % 10000);
    }

    std::vector<std::string> table_names() const override { return slot_.tables; }
    std::vector<SourceLayout> table_layouts() const override { return slot_.layouts; }

    void take_over() override {
        util::PgConn conn(c_.source_conn, "source");
        conn.connect();
        auto ended = conn.query(
            "SELECT active_pid, pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE "
            "slot_name = $1 AND active_pid IS NOT NULL",
            {c_.slot_name});
        if (!ended.empty()) {
            spdlog::warn(
                "ended source process {}, which the previous holder of the stream left "
                "reading slot {}",
                ended[0].at(0).value_or("?"), c_.slot_name);
        }
    }

    Position choose_start(const std::optional<Position>& checkpoint,
                          const std::string& table) override {
        if (!checkpoint) {
            spdlog::info("no checkpoint in {} yet; starting at the slot's confirmed position {}",
                         table, slot_.confirmed_flush.str());
            return Position{};  // 0/0: the server starts at the slot's confirmed position
        }
        spdlog::info("resuming from LSN {} saved in {} (slot confirmed at {})",
                     Lsn(checkpoint->ordinal).str(), table, slot_.confirmed_flush.str());
        // The slot is only ever confirmed up to what the checkpoint records, so a slot ahead
        // of it was dropped and created again (or advanced by hand): the server would start
        // at the slot and the changes in between would be skipped without a word.
        if (slot_.confirmed_flush.ordinal() > checkpoint->ordinal) {
            std::string gap = fmt::format(
                "replication slot \"{}\" is confirmed at LSN {}, ahead of the checkpoint LSN {} "
                "in {}: the source no longer has the changes between them ({} bytes of WAL; the "
                "slot was dropped and created again, or advanced by hand)",
                c_.slot_name, slot_.confirmed_flush.str(), Lsn(checkpoint->ordinal).str(), table,
                slot_.confirmed_flush.ordinal().value() - checkpoint->ordinal.value());
            if (!c_.accept_data_loss) {
                throw fatal(gap +
                            ". They cannot be replicated. Re-load the target tables from a "
                            "snapshot taken after the slot was created and delete the checkpoint "
                            "row (docs/staging.md §7); or, to go on and accept the loss, run once "
                            "with --acceptDataLoss");
            }
            spdlog::warn("{}; going on from the slot's position because of --acceptDataLoss", gap);
        }
        return *checkpoint;
    }

    void run(source::ChangeSink& sink, Progress& progress, metrics::Probe& probe,
             const std::atomic<bool>& stop) override {
        WalReaderOptions ro;
        ro.conninfo = c_.source_conn;
        ro.slot = c_.slot_name;
        ro.publication = c_.publication_name;
        ro.standby_timeout = c_.standby_timeout;
        ro.spool_dir = c_.spool_dir;
        ro.allow_streaming = c_.allow_streaming;
        WalReader reader(ro, sink, progress, probe);
        reader.run(Lsn(progress.ordinal()), stop);
    }

    std::string check() override {
        try {
            auto rows = monitor_conn_.query(
                "SELECT pg_current_wal_lsn()::text, restart_lsn::text, confirmed_flush_lsn::text "
                "FROM pg_replication_slots WHERE slot_name = $1",
                {c_.slot_name});
            if (rows.size() != 1) {
                return "replication slot " + c_.slot_name + " no longer exists on the source";
            }
            auto lsn = [&](size_t col) {
                const auto& v = rows[0].at(col);
                return v ? Lsn::parse(*v).value_or(Lsn()).value() : 0;
            };
            current_wal_ = lsn(0);
            slot_restart_ = lsn(1);
            return "";
        } catch (const Error& e) {
            monitor_conn_.close();
            return std::string("source unreachable: ") + e.what();
        }
    }

    std::optional<source::Backlog> backlog(const Progress& progress) const override {
        uint64_t current = current_wal_.load();
        if (current == 0) {
            return std::nullopt;
        }
        uint64_t confirmed = progress.confirmable().value();
        return source::Backlog{static_cast<double>(current - std::min(current, confirmed)),
                               static_cast<double>(confirmed), "bytes of WAL"};
    }

    nlohmann::json describe() const override {
        return {{"sourceConn", redact_conninfo(c_.source_conn)},
                {"slotName", c_.slot_name},
                {"publicationName", c_.publication_name},
                {"createSlotAndPublication", c_.create_slot_and_publication},
                {"standbyTimeout", format_go_duration(c_.standby_timeout)},
                {"disableStreaming", !c_.allow_streaming},
                {"acceptDataLoss", c_.accept_data_loss}};
    }

    nlohmann::json positions(const Progress& progress, const metrics::Probe& probe) const override {
        return {{"confirmed_lsn", Lsn(progress.confirmable()).str()},
                {"received_lsn", Lsn(probe.received()).str()},
                {"source_wal_lsn", Lsn(current_wal_.load()).str()}};
    }

private:
    const PglogicalConfig& c_;
    LsnCodec codec_;
    util::PgConn monitor_conn_;  // used only from the monitor thread
    SlotState slot_;
    // From the monitor's last successful check (0: none yet).
    std::atomic<uint64_t> current_wal_{0};
    std::atomic<uint64_t> slot_restart_{0};
};

}  // namespace

std::string pglogical_memo_key(const SchemaRef& target_schema) {
    return "pglogical-wal-offset-" + target_schema.raw;
}

std::unique_ptr<source::Source> make_pglogical_source(const PglogicalConfig& config) {
    return std::make_unique<PglogicalSource>(config);
}

}  // namespace rep::pg
