#include "source/oracle/oracle_source.h"

#include "base/clock.h"
#include "base/error.h"
#include "source/oracle/catalog.h"
#include "source/oracle/checkpoint_table.h"
#include "source/oracle/db_clock.h"
#include "source/oracle/logminer_sql.h"
#include "source/oracle/oci_logminer.h"
#include "source/oracle/oracle_url.h"
#include "source/oracle/redo_mutation.h"
#include "source/oracle/scn_codec.h"
#include "source/oracle/sentinel.h"
#include "source/oracle/window_reader.h"
#include "util/pg_conn.h"
#include "util/thread_name.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <thread>

namespace rep::oracle {
namespace {

// A row of `_oracle_checkpoint` that keeps the first run's --scn until the restart SCN
// passes it: committed, so it is never a transaction to mine, and collected like one once
// the restart SCN is above it.
constexpr const char* kSnapshotXid = "snapshot";

// Calls session.interrupt() once `stop` is set, from a thread of its own, until destroyed.
class BreakOnStop {
public:
    BreakOnStop(OciSession& session, const std::atomic<bool>& stop)
        : thread_([this, &session, &stop] {
              util::name_this_thread("oci-break");
              while (!done_.load()) {
                  if (stop.load()) {
                      session.interrupt();
                      return;
                  }
                  std::this_thread::sleep_for(std::chrono::milliseconds(50));
              }
          }) {}
    ~BreakOnStop() {
        done_.store(true);
        thread_.join();
    }
    BreakOnStop(const BreakOnStop&) = delete;
    BreakOnStop& operator=(const BreakOnStop&) = delete;

private:
    std::atomic<bool> done_{false};
    std::thread thread_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class OracleSource final : public source::Source {
public:
    explicit OracleSource(const OracleConfig& c)
        : c_(c),
          cdb_url_(OracleUrl::parse(c.source_conn, "--sourceConn")),
          pdb_url_(c.source_pdb_conn.empty()
                       ? std::nullopt
                       : std::optional(OracleUrl::parse(c.source_pdb_conn, "--sourcePDBConn"))) {}

    std::string name() const override { return "oraclelogminer"; }
    const PositionCodec& codec() const override { return codec_; }
    std::string memo_key(const SchemaRef& target_schema) const override {
        return oracle_memo_key(target_schema);
    }

    void add_metrics(metrics::Probe& probe, const Progress&) override {
        probe.add_gauge(
            "oraclelogminer_scn_interval_size",
            "SCNs from the start of the window being mined to the current SCN; "
            "above --scnWindowSize means lag or an idle database",
            [this]() -> std::optional<double> { return static_cast<double>(interval_.load()); });
        probe.add_gauge(
            "oraclelogminer_num_inflight_transactions_in_memory",
            "Open source transactions held in memory",
            [this]() -> std::optional<double> { return static_cast<double>(in_flight_.load()); });
        probe.add_gauge(
            "oraclelogminer_num_inflight_transactions_on_disk",
            "Open source transactions with changes moved to <dataDir>/oracle-spill "
            "(beyond --transactionBufferBytes)",
            [this]() -> std::optional<double> { return static_cast<double>(on_disk_.load()); });
        probe.add_gauge(
            "oraclelogminer_inflight_bytes_in_memory",
            "Bytes of open source transactions' changes held in memory (at most about "
            "--transactionBufferBytes)",
            [this]() -> std::optional<double> { return static_cast<double>(buffered_.load()); });
        window_seconds_ = probe.add_histogram(
            "oraclelogminer_time_per_window_seconds",
            "Time to mine one SCN window and hand its transactions to the applier");
        query_seconds_ = probe.add_histogram(
            "oraclelogminer_query_redo_logs_duration_seconds",
            "START_LOGMNR and the V$LOGMNR_CONTENTS query of one window, fetches included");
        upsert_seconds_ = probe.add_histogram(
            "oraclelogminer_upsert_checkpoints_duration",
            "Time to write one batch of checkpoint rows into _oracle_checkpoint");
        delete_seconds_ =
            probe.add_histogram("oraclelogminer_delete_checkpoints_duration",
                                "Time to delete old committed rows from _oracle_checkpoint");
        probe.add_gauge(
            "oraclelogminer_num_async_checkpoints_in_queue",
            "Checkpoint writes queued for _oracle_checkpoint",
            [this]() -> std::optional<double> { return static_cast<double>(queued_.load()); });
    }

    void preflight() override {
        const oci::Api& api = oci::load({c_.client_lib_dir});
        OciSession cdb(api, cdb_url_, {});
        check_database(cdb);
        std::unique_ptr<OciSession> pdb;
        if (pdb_url_) {
            pdb = std::make_unique<OciSession>(api, *pdb_url_, OciSession::Options{});
            pdb_name_ = container_name(*pdb);
        }
        tables_ = read_catalog(pdb ? *pdb : cdb, c_.source_schema, &sentinel_table_);
        names_.clear();
        layouts_.clear();
        for (const auto& [name, table] : tables_) {
            names_.push_back(table.relation->name);
            layouts_.push_back(SourceLayout{table.relation, table.types, {}});
        }
        spdlog::info("oraclelogminer: {} tables in schema {}{}", tables_.size(), c_.source_schema,
                     pdb_name_.empty() ? "" : " of PDB " + pdb_name_);
    }

    std::vector<std::string> table_names() const override { return names_; }
    std::vector<SourceLayout> table_layouts() const override { return layouts_; }
    void take_over() override {}

    Position choose_start(const std::optional<Position>& checkpoint,
                          const std::string& memo_table) override {
        // `_oracle_checkpoint` lives beside the memo table.
        std::string schema = memo_table.substr(0, memo_table.rfind('.'));
        table_ = std::make_unique<CheckpointTable>(schema);
        staging_ = std::make_unique<util::PgConn>(c_.staging_conn, "staging");
        table_->ensure(*staging_);
        std::vector<CheckpointRow> rows = table_->read(*staging_);
        std::optional<Resume> resume = resume_from(rows);
        if (!resume) {
            if (!c_.scn) {
                throw setup_error(
                    "the first run of oraclelogminer needs --scn: the SCN of the snapshot the "
                    "target was loaded from (MOLT Fetch prints it), and --backfillFromSCN if "
                    "transactions were open at that SCN");
            }
            uint64_t from = c_.backfill_from_scn.value_or(*c_.scn);
            if (!c_.backfill_from_scn) {
                from = std::min(from, oldest_open_transaction().value_or(from));
            }
            if (from > *c_.scn) {
                throw setup_error(
                    fmt::format("--backfillFromSCN {} is above --scn {}", from, *c_.scn));
            }
            table_->write(*staging_,
                          {CheckpointOp{CheckpointOp::Kind::kMark, kSnapshotXid, *c_.scn, *c_.scn},
                           CheckpointOp{CheckpointOp::Kind::kFrontier, "", from, 0}});
            spdlog::info(
                "first run: mining from SCN {} (--backfillFromSCN), transactions "
                "committed below --scn {} are in the snapshot",
                from, *c_.scn);
            if (checkpoint) {
                // A memo row without _oracle_checkpoint rows is left from an earlier
                // replication (the table was emptied to start again): what it says the target
                // has does not hold for this snapshot.
                spdlog::warn(
                    "ignoring the checkpoint {} in {}: _oracle_checkpoint is empty, "
                    "so this is a first run from --scn",
                    codec_.describe(*checkpoint), memo_table);
            }
            return ScnCodec::below(from);
        }
        if (c_.scn || c_.backfill_from_scn) {
            spdlog::warn("resuming from {}: --scn and --backfillFromSCN are ignored",
                         table_->table_sql());
        }
        spdlog::info("resuming from SCN {} ({}, {} committed transactions to skip){}",
                     resume->restart_scn, table_->table_sql(), resume->skip.size(),
                     checkpoint ? "; the target has " + codec_.describe(*checkpoint) : "");
        return checkpoint ? *checkpoint : ScnCodec::below(resume->restart_scn);
    }

    void run(source::ChangeSink& sink, Progress& progress, metrics::Probe& probe,
             const std::atomic<bool>& stop) override;

    std::string check() override { return ""; }

    std::optional<source::Backlog> backlog(const Progress&) const override {
        uint64_t interval = interval_.load();
        return source::Backlog{static_cast<double>(interval), 0, "SCNs"};
    }

    nlohmann::json describe() const override {
        nlohmann::json j = {{"sourceConn", cdb_url_.redacted()},
                            {"sourcePDBConn", pdb_url_ ? pdb_url_->redacted() : ""},
                            {"sourceSchema", c_.source_schema},
                            {"scnWindowSize", c_.scn_window_size},
                            {"oracleClientLibDir", c_.client_lib_dir},
                            {"transactionBufferBytes", c_.transaction_buffer_bytes},
                            {"oracle-application-users", c_.application_users}};
        if (c_.scn) {
            j["scn"] = *c_.scn;
        }
        if (c_.backfill_from_scn) {
            j["backfillFromSCN"] = *c_.backfill_from_scn;
        }
        return j;
    }

    nlohmann::json positions(const Progress& progress, const metrics::Probe&) const override {
        return {{"applied", progress.get().text}, {"window_start_scn", lo_.load()}};
    }

private:
    // The window loop, on `session`, until `stop`.
    void read(OciSession& session, source::ChangeSink& sink, Progress& progress,
              metrics::Probe& probe, const std::atomic<bool>& stop);
    // One pass of the window loop's bookkeeping: what the reader learnt goes to the sink and
    // to the checkpoint queue.
    void emit(const Window& window, source::ChangeSink& sink, metrics::Probe& probe);
    // Moves the marks of transactions the checkpoint now proves applied into the queue, and
    // writes the queue to `_oracle_checkpoint` as one transaction.
    void flush_checkpoints(const Progress& progress, bool collect);
    // The start SCN of the oldest transaction open now (of --oracle-application-users, if
    // given): a first run without --backfillFromSCN mines from it when it began before --scn.
    std::optional<uint64_t> oldest_open_transaction();
    // Measures the database clock's offset (each minute: daylight-saving changes).
    void read_clock(OciSession& session);

    const OracleConfig& c_;
    ScnCodec codec_;
    OracleUrl cdb_url_;
    std::optional<OracleUrl> pdb_url_;
    std::string pdb_name_;
    std::map<std::string, OracleTable> tables_;  // by Oracle table name
    bool sentinel_table_ = false;
    std::vector<std::string> names_;
    std::vector<SourceLayout> layouts_;
    std::unique_ptr<CheckpointTable> table_;
    std::unique_ptr<util::PgConn> staging_;

    // The reader thread's state within a run.
    std::vector<CheckpointOp> queue_;
    std::deque<std::pair<Ordinal, CheckpointOp>> marks_;  // waiting for their apply
    uint64_t rank_scn_ = 0;
    std::vector<std::string> at_scn_;  // applied or emitted XIDs committed at rank_scn_

    std::atomic<uint64_t> interval_{0};
    DbClock clock_;  // redo TIMESTAMP to UTC, for the lag metrics
    std::atomic<uint64_t> in_flight_{0};
    // MOLT's histograms (no-ops until add_metrics).
    std::function<void(double)> window_seconds_ = [](double) {};
    std::function<void(double)> query_seconds_ = [](double) {};
    std::function<void(double)> upsert_seconds_ = [](double) {};
    std::function<void(double)> delete_seconds_ = [](double) {};
    std::atomic<uint64_t> on_disk_{0};
    std::atomic<uint64_t> buffered_{0};
    std::atomic<uint64_t> queued_{0};
    std::atomic<uint64_t> lo_{0};
};

void OracleSource::flush_checkpoints(const Progress& progress, bool collect) {
    Ordinal recorded = progress.recorded();
    while (!marks_.empty() && marks_.front().first <= recorded) {
        queue_.push_back(std::move(marks_.front().second));
        marks_.pop_front();
    }
    queued_.store(queue_.size() + marks_.size());
    if (queue_.empty() && !collect) {
        return;
    }
    if (!staging_->connected()) {
        staging_->connect();
    }
    if (!queue_.empty()) {
        auto started = std::chrono::steady_clock::now();
        table_->write(*staging_, queue_);
        upsert_seconds_(seconds_since(started));
        queue_.clear();
    }
    if (collect) {
        auto started = std::chrono::steady_clock::now();
        table_->collect(*staging_);
        delete_seconds_(seconds_since(started));
    }
    queued_.store(marks_.size());
}

std::optional<uint64_t> OracleSource::oldest_open_transaction() {
    const oci::Api& api = oci::load({c_.client_lib_dir});
    OciSession session(api, pdb_url_ ? *pdb_url_ : cdb_url_, {});
    const std::vector<std::string>& users = c_.application_users;
    std::vector<TextRow> rows =
        session.query_all(sql::oldest_open_transaction(users.size()), 1, users);
    std::string who = users.empty() ? "any user" : fmt::format("{}", fmt::join(users, ", "));
    if (rows.empty() || !rows[0][0]) {
        spdlog::info("first run: no transaction of {} is open now", who);
        return std::nullopt;
    }
    uint64_t scn = 0;
    try {
        scn = std::stoull(*rows[0][0]);
    } catch (const std::exception&) {
        throw fatal("V$TRANSACTION.START_SCN reads '" + *rows[0][0] + "', not an SCN");
    }
    spdlog::info("first run: the oldest open transaction of {} began at SCN {}", who, scn);
    return scn;
}

void OracleSource::read_clock(OciSession& session) {
    std::vector<TextRow> rows = session.query_all(sql::database_time(), 1);
    std::string text = rows.empty() || !rows[0][0] ? "" : *rows[0][0];
    int64_t before = clock_.offset_seconds();
    bool known = clock_.known();
    if (!clock_.update(text, unix_now_us())) {
        spdlog::warn(
            "the database clock reads '{}', not a date: lag is measured from the time "
            "changes are read",
            text);
    } else if (!known || before != clock_.offset_seconds()) {
        int64_t offset = clock_.offset_seconds();
        spdlog::info("the database clock is UTC{}{:02d}:{:02d}; redo times are read in it",
                     offset < 0 ? '-' : '+', std::abs(offset) / 3600, std::abs(offset) % 3600 / 60);
    }
}

void OracleSource::emit(const Window& window, source::ChangeSink& sink, metrics::Probe& probe) {
    for (const TxnAction& a : window.actions) {
        switch (a.kind) {
            case TxnAction::Kind::kRegister:
                spdlog::debug("registered xid {} at SCN {}", a.xid, a.start_scn);
                queue_.push_back({CheckpointOp::Kind::kRegister, a.xid, a.start_scn, 0});
                continue;
            case TxnAction::Kind::kRollback:
                queue_.push_back({CheckpointOp::Kind::kDelete, a.xid, 0, 0});
                continue;
            case TxnAction::Kind::kCommit:
                break;
        }
        CheckpointOp mark{CheckpointOp::Kind::kMark, a.xid, a.start_scn, a.commit_scn};
        if (!a.apply) {
            queue_.push_back(std::move(mark));  // the target has it already
            continue;
        }
        if (a.commit_scn != rank_scn_) {
            rank_scn_ = a.commit_scn;
            at_scn_.clear();
        }
        uint64_t rank = at_scn_.size();
        at_scn_.push_back(a.xid);
        // The commit's redo time, so that the lag metrics say how far behind the source the
        // target is (during a catch-up too); the time it was read if that is unknown. Never
        // later than now: a clock skew must not make lag negative.
        int64_t time =
            std::min(unix_now_us(), clock_.to_utc_us(a.commit_time).value_or(unix_now_us()));
        sink.begin(0, ScnCodec::begin(a.commit_scn, rank, a.xid), time);
        a.events.for_each([&](const TxnEvent& e) {
            auto table = tables_.find(e.table);
            if (table == tables_.end()) {
                return;  // a table created after start-up: not replicated
            }
            sink.change(
                to_mutation(parse_sql_redo(e.sql_redo), table->second, RedoOrigin{e.scn, a.xid}));
        });
        Position end = ScnCodec::commit(a.commit_scn, rank, at_scn_);
        probe.received_commit(time, end.ordinal);
        marks_.emplace_back(end.ordinal, std::move(mark));
        sink.commit(std::move(end), time);
    }
    queue_.push_back({CheckpointOp::Kind::kFrontier, "", window.hi + 1, 0});
    sink.keepalive(ScnCodec::below(window.hi + 1));
}

void OracleSource::run(source::ChangeSink& sink, Progress& progress, metrics::Probe& probe,
                       const std::atomic<bool>& stop) {
    const oci::Api& api = oci::load({c_.client_lib_dir});
    OciSession session(api, cdb_url_, {});
    // A stop must not wait for a LogMiner query in flight (minutes on a busy database): the
    // watcher breaks the session's call, and the error that ends it is the stop's.
    BreakOnStop watcher(session, stop);
    try {
        read(session, sink, progress, probe, stop);
    } catch (const Error&) {
        if (!stop.load()) {
            throw;
        }
    }
    probe.source_connected(false);
}

void OracleSource::read(OciSession& session, source::ChangeSink& sink, Progress& progress,
                        metrics::Probe& probe, const std::atomic<bool>& stop) {
    const oci::Api& api = oci::load({c_.client_lib_dir});
    OciLogMiner miner(session);
    if (!staging_->connected()) {
        staging_->connect();
    }
    std::vector<CheckpointRow> rows = table_->read(*staging_);
    std::optional<Resume> resume = resume_from(rows);
    if (!resume) {
        throw fatal(table_->table_sql() + " has no frontier row: it was emptied while running");
    }
    ReaderOptions options;
    options.schema = c_.source_schema;
    if (!pdb_name_.empty()) {
        options.pdb = pdb_name_;
    }
    for (const auto& [name, table] : tables_) {
        options.tables.insert(name);
    }
    options.window_size = c_.scn_window_size;
    options.spill = {c_.spill_dir, c_.transaction_buffer_bytes};
    for (const CheckpointRow& r : rows) {
        if (r.xid == kSnapshotXid && r.commit_scn && resume->restart_scn <= *r.commit_scn) {
            options.snapshot_scn = *r.commit_scn;
        }
    }
    // What the target has (the memo's position, or what this process applied).
    std::optional<AppliedPoint> applied = ScnCodec::applied(progress.get().text);
    if (applied) {
        options.applied = [point = *applied](uint64_t scn, const std::string& xid) {
            return point.covers(scn, xid);
        };
        rank_scn_ = applied->scn;
        at_scn_ = applied->xids;
    }
    WindowReader reader(miner, options, *resume);
    Sentinel sentinel(api, pdb_url_ ? *pdb_url_ : cdb_url_, c_.source_schema, sentinel_table_);
    queue_.clear();
    marks_.clear();
    probe.source_connected(true);
    auto last_collect = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> last_clock;
    while (!stop.load()) {
        bool collect = std::chrono::steady_clock::now() - last_collect > std::chrono::seconds(10);
        flush_checkpoints(progress, collect);
        if (collect) {
            last_collect = std::chrono::steady_clock::now();
        }
        if (!last_clock ||
            std::chrono::steady_clock::now() - *last_clock > std::chrono::minutes(1)) {
            read_clock(session);
            last_clock = std::chrono::steady_clock::now();
        }
        lo_.store(reader.lo());
        auto started = std::chrono::steady_clock::now();
        std::optional<Window> window = reader.next();
        interval_.store(
            reader.last_current_scn() > reader.lo() ? reader.last_current_scn() - reader.lo() : 0);
        in_flight_.store(reader.in_flight());
        on_disk_.store(reader.buffer().spilled());
        buffered_.store(reader.buffer().memory_bytes());
        sentinel.maybe_beat(reader.last_current_scn(), !window && reader.waiting().empty());
        if (!window) {
            if (!reader.waiting().empty()) {
                spdlog::debug("waiting for redo logs: {}", reader.waiting());
            }
            sink.keepalive(ScnCodec::below(reader.lo()));
            for (int i = 0; i < 10 && !stop.load(); ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            continue;
        }
        emit(*window, sink, probe);
        query_seconds_(window->query_seconds);
        window_seconds_(seconds_since(started));
    }
}

}  // namespace

std::string oracle_memo_key(const SchemaRef& target_schema) {
    return "oraclelogminer-scn-" + target_schema.raw;
}

std::unique_ptr<source::Source> make_oracle_source(const OracleConfig& config) {
    return std::make_unique<OracleSource>(config);
}

}  // namespace rep::oracle
