#include "app/runner.h"

#include "app/lease_keeper.h"
#include "app/monitor.h"
#include "app/pipeline.h"
#include "app/signals.h"
#include "app/stream_fence.h"
#include "app/target_preflight.h"
#include "base/conninfo.h"
#include "base/error.h"
#include "staging/lease.h"
#include "staging/memo.h"
#include "target/catalog_queries.h"
#include "target/dialect.h"
#include "target/table_catalog.h"
#include "util/pg_conn.h"

#include "http/status_server.h"
#include "metrics/snapshotter.h"
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace rep::app {
namespace {

// Sleeps up to `d`, waking early when a stop is requested.
void sleep_unless_stopped(Duration d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stop_requested().load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Waiting out an outage: logs the first failures, then one line every 30 s, so that a server
// that is down for minutes leaves a readable log (/_/healthz says 503 meanwhile).
class OutageLog {
public:
    // Logs `what` failed with `e`, retrying in `d`.
    void failed(const std::string& what, const Error& e, Duration d) {
        auto now = std::chrono::steady_clock::now();
        if (failures_++ == 0) {
            since_ = now;
        }
        if (failures_ <= 5 || now - last_ >= std::chrono::seconds(30)) {
            last_ = now;
            auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - since_).count();
            spdlog::warn(
                "{} failed{}, retrying in {}: {}", what,
                failures_ > 1 ? fmt::format(" ({} times in {} s)", failures_, seconds) : "",
                format_go_duration(d), e.what());
        }
    }
    void recovered(const std::string& what) {
        if (failures_ > 5) {
            spdlog::info("{} succeeded after {} failures", what, failures_);
        }
        failures_ = 0;
    }

private:
    int failures_ = 0;
    std::chrono::steady_clock::time_point since_;
    std::chrono::steady_clock::time_point last_;
};

// Runs `fn` until it succeeds. Retryable errors (an unreachable or restarting server) are
// retried for as long as they last, with backoff capped at --retryMaxBackoff: a production
// replicator rides through an outage. Fatal errors propagate, and so does any error once a
// stop is requested.
template <typename Fn>
auto with_retries(const util::RetryPolicy& policy, const char* what, Fn&& fn) {
    util::Backoff backoff(policy);
    OutageLog log;
    for (;;) {
        try {
            struct Recovered {
                OutageLog& log;
                const char* what;
                ~Recovered() {
                    if (std::uncaught_exceptions() == 0) {
                        log.recovered(what);
                    }
                }
            } recovered{log, what};
            return fn();
        } catch (const Error& e) {
            if (!e.retryable() || stop_requested().load()) {
                throw;
            }
            Duration d = backoff.next();
            log.failed(what, e, d);
            sleep_unless_stopped(d);
        }
    }
}

}  // namespace

nlohmann::json describe_common(const CommonConfig& c) {
    nlohmann::json j = {
        {"targetConn", redact_conninfo(c.target_conn)},
        {"stagingConn", c.staging_conn.empty() ? "" : redact_conninfo(c.staging_conn)},
        {"targetSchema", c.target_schema},
        {"stagingSchema", c.staging_schema},
        {"stagingCreateSchema", c.staging_create_schema},
        {"flushSize", c.flush_size},
        {"targetMaxMessageBytes", c.target_max_message_bytes},
        {"flushPeriod", format_go_duration(c.flush_period)},
        {"targetApplyQueueSize", c.target_apply_queue_size},
        {"applyTimeout", format_go_duration(c.apply_timeout)},
        {"maxRetries", c.retry.max_retries},
        {"retryInitialBackoff", format_go_duration(c.retry.initial_backoff)},
        {"retryMaxBackoff", format_go_duration(c.retry.max_backoff)},
        {"retryMultiplier", c.retry.multiplier},
        {"truncateMode", c.truncate_mode == sequencer::TruncateMode::kApply    ? "apply"
                         : c.truncate_mode == sequencer::TruncateMode::kIgnore ? "ignore"
                                                                               : "error"},
        {"skipTargetCheck", c.skip_target_checks},
        {"collapseMutations", c.collapse_mutations},
        {"timestampLimit", c.timestamp_limit},
        {"dataDir", c.data_dir.string()},
        {"metricsAddr", c.metrics_addr},
        {"stallTimeout", format_go_duration(c.stall_timeout)},
        {"metricsSnapshotPeriod", format_go_duration(c.snapshots.period)},
        {"metricsSnapshotCompression", c.snapshots.gzip ? "gzip" : "none"},
        {"metricsSnapshotRetentionTime", format_go_duration(c.snapshots.retention_time)},
        {"metricsSnapshotRetentionSize", c.snapshots.retention_bytes},
        {"parallelism", c.parallelism},
        {"targetMaxPoolSize", c.target_max_pool_size},
        {"enableParallelApplies", c.enable_parallel_applies},
    };
    if (c.unordered_commits) {
        j["unorderedCommits"] = true;
    }
    return j;
}

namespace {

int run(const CommonConfig& config, const SourceConfig& source_config, source::RowStage* stage) {
    SchemaRef target_schema = SchemaRef::parse(config.target_schema, "--targetSchema");
    SchemaRef staging_schema = SchemaRef::parse(config.staging_schema, "--stagingSchema");
    std::unique_ptr<source::Source> source_ptr = make_source(source_config);
    source::Source& source = *source_ptr;
    const PositionCodec& codec = source.codec();
    size_t workers = std::max<size_t>(1, config.parallelism);
    if (config.unordered_commits && !codec.stable_ordinals()) {
        // Out-of-order commits are recorded by positions that name the same place in every run.
        throw fatal(source.name() +
                    " positions cannot record commits out of source order; drop "
                    "--unorderedCommits");
    }

    // Endpoints first, so /_/healthz answers (with the reason) while we connect.
    metrics::Probe probe(target_schema.raw, source.name());
    Progress progress;
    source.add_metrics(probe, progress);
    nlohmann::json described = describe_common(config);
    described["command"] = source.name();
    described.update(source.describe());
    MonitorOptions mo;
    mo.target_conn = config.target_conn;
    mo.stall_timeout = config.stall_timeout;
    Monitor monitor(mo, source, probe, progress, described);
    monitor.start();
    std::unique_ptr<http::StatusServer> server;
    if (!config.metrics_addr.empty()) {
        server = std::make_unique<http::StatusServer>(config.metrics_addr, monitor);
        spdlog::info("serving /_/varz, /_/healthz and /_/diag on {}", config.metrics_addr);
    }
    std::unique_ptr<metrics::Snapshotter> snapshotter;
    if (config.snapshots.period.count() > 0) {
        metrics::SnapshotOptions so = config.snapshots;
        so.dir = config.data_dir / "metrics-snapshots";
        snapshotter =
            std::make_unique<metrics::Snapshotter>(so, [&probe] { return probe.exposition(true); });
        snapshotter->start();
    }

    // A statement's answer is waited for until the server's own statement_timeout
    // (--applyTimeout) has surely fired, and then some: longer means the peer is gone.
    const Duration response_timeout = config.apply_timeout + std::chrono::seconds(30);
    util::PgConn target(config.target_conn, "target");
    target.set_response_timeout(response_timeout);
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.apply_timeout);
    // The values arrive as UTF-8 text (sources render them so) and are parsed by the target:
    // declare the encoding, and pin the interval style, whose input rules differ, whatever
    // the target database's defaults. Nothing else is pinned, so that target-side defaults
    // and triggers see the database's own settings.
    //
    // --applyTimeout also bounds how long a session may sit idle inside a transaction, as in
    // MOLT Replicator. Ours never do for long; a session whose client vanished behind a network
    // partition does, holding row locks (the memo row's among them) that would block every
    // session after it until the server's TCP keepalive noticed, hours later by default.
    std::vector<std::string> session = {
        "SET application_name = 'replicator'",
        fmt::format("SET statement_timeout = {}", timeout_ms.count()),
        fmt::format("SET idle_in_transaction_session_timeout = {}", timeout_ms.count()),
        "SET client_encoding = 'UTF8'", "SET intervalstyle = 'postgres'"};
    target.set_session_sql(session);
    with_retries(config.retry, "connecting to the target", [&] { target.connect(); });
    target::Dialect dialect(
        target::detect_product(target.query_value("SELECT version()").value_or("")));
    if (dialect.product() == target::TargetProduct::kPostgres) {
        // The checkpoint is only as durable as the commit that carries it: once a commit is
        // acknowledged the source is told it may forget that data. With the server's
        // synchronous_commit off, a crash could lose acknowledged commits, and with them
        // transactions the source will never send again. Insist on it for our session.
        session.push_back("SET synchronous_commit = on");
        // money values arrive in the C locale's format (sources pin lc_monetary), and are
        // parsed with this one.
        session.push_back("SET lc_monetary = 'C'");
        target.set_session_sql(session);
        target.execute("SET synchronous_commit = on");
        target.execute("SET lc_monetary = 'C'");
    }
    if (dialect.product() == target::TargetProduct::kCockroach) {
        // The stream's lease fences each transaction by a plain read of its row, which only a
        // SERIALIZABLE transaction keeps valid until COMMIT (staging/lease.h); do not inherit
        // a cluster default of READ COMMITTED.
        session.push_back("SET default_transaction_isolation = 'serializable'");
        target.set_session_sql(session);
        target.execute(session.back());
    }
    spdlog::info("connected to target {} ({})", redact_conninfo(config.target_conn),
                 dialect.name());
    if (dialect.product() == target::TargetProduct::kPostgres && !target_schema.database.empty()) {
        auto db = target.query_value("SELECT current_database()");
        if (db != target_schema.database) {
            throw fatal(
                fmt::format("--targetSchema {} names database \"{}\", but --targetConn "
                            "connects to database \"{}\"",
                            target_schema.raw, target_schema.database, db.value_or("?")));
        }
    }
    if (!target.query_value(target::in_database("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                                dialect.catalog_database(target_schema)),
                            {target_schema.schema})) {
        throw fatal(
            fmt::format("target schema \"{}\" (--targetSchema {}) does not exist on the "
                        "target; create it and the tables to replicate into",
                        target_schema.schema, target_schema.raw));
    }

    bool memo_in_target = config.staging_conn.empty() || config.staging_conn == config.target_conn;
    std::unique_ptr<util::PgConn> staging_conn;
    if (!memo_in_target) {
        staging_conn = std::make_unique<util::PgConn>(config.staging_conn, "staging");
        staging_conn->set_response_timeout(response_timeout);
        with_retries(config.retry, "connecting to staging", [&] { staging_conn->connect(); });
    }
    util::PgConn& staging = memo_in_target ? target : *staging_conn;
    target::Dialect staging_dialect(
        target::detect_product(staging.query_value("SELECT version()").value_or("")));
    staging::Memo memo(staging_dialect, staging_schema);
    memo.ensure(staging, config.staging_create_schema);
    std::string key = source.memo_key(target_schema);

    with_retries(config.retry, "checking the source", [&] { source.preflight(); });
    preflight_target(config, target, dialect, target_schema, source);

    // One process applies a stream at a time: wait for the stream's lease as a standby while
    // another process holds it (staging/lease.h).
    staging::StreamLease lease(staging_dialect, memo.schema_sql(), key, lease_holder_name(),
                               config.lease_ttl);
    lease.ensure(staging);
    const std::string& staging_conninfo = memo_in_target ? config.target_conn : config.staging_conn;
    LeaseKeeper keeper(
        lease,
        [&] {
            // A renewal that waits long is as good as lost (LeaseKeeper stops at half the TTL).
            auto c = std::make_unique<util::PgConn>(staging_conninfo, "staging");
            c->set_response_timeout(
                std::max<Duration>(std::chrono::milliseconds(500), config.lease_ttl / 4));
            c->set_connect_timeout(2);
            c->set_session_sql({"SET application_name = 'replicator'",
                                fmt::format("SET statement_timeout = {}", timeout_ms.count())});
            c->connect();
            return c;
        },
        [&](const std::string& state) { monitor.set_standby(state); },
        [&](const std::string& holder) {
            if (dialect.product() == target::TargetProduct::kPostgres) {
                end_stream_sessions(target, stream_lock_id(key), holder);
            }
        });
    bool waited = false;
    if (!keeper.acquire(staging, &waited)) {
        spdlog::info("stopped on request while waiting as a standby");
        return 0;
    }
    if (waited) {
        // The previous holder may still hold the source (a frozen process's walsender), and
        // the source moved on while we waited: look at it again (a slot's position).
        with_retries(config.retry, "taking the stream over at the source", [&] {
            source.take_over();
            source.preflight();
        });
    }
    keeper.start();
    if (dialect.product() == target::TargetProduct::kPostgres) {
        // Before the checkpoint is read: no session of an earlier process of this stream may
        // still commit (stream_fence.h). From now on this process's sessions hold the lock.
        int64_t lock = stream_lock_id(key);
        session.push_back(hold_stream_lock_sql(lock));
        target.set_session_sql(session);
        target.execute(hold_stream_lock_sql(lock));
        with_retries(
            config.retry, "waiting for earlier sessions of this stream on the target", [&] {
                wait_for_earlier_sessions(target, lock, config.apply_timeout, stop_requested());
            });
    }
    std::optional<Position> saved;
    if (auto text = memo.read(staging, key)) {
        saved = codec.parse(*text);
        if (!saved) {
            throw fatal(fmt::format(
                "the {} checkpoint in {} (key \"{}\") holds \"{}\", which is not a valid {}; "
                "fix or delete that row",
                source.name(), memo.table_sql(), key, text->substr(0, 200), codec.kind()));
        }
    }
    if (codec.stable_ordinals()) {
        // Parallel commits may have left records beyond the plain row (staging.md §4.3).
        staging::AppliedSet applied = staging::recover_applied(memo, staging, key, codec);
        if (applied.prefix() > (saved ? saved->ordinal : Ordinal())) {
            saved = codec.at(applied.prefix());
        }
    }
    Position start = source.choose_start(saved, memo.table_sql());
    progress.start_at(start);
    probe.set_confirmed(start.ordinal);
    probe.set_checkpoint(start.ordinal);

    // One connection per apply worker, with the target session's settings, connected on
    // first use so a light load opens few of them. The runner's own connection serves the
    // dispatcher (catalog reads for conflict keys, checkpoint recovery).
    std::vector<std::unique_ptr<util::PgConn>> pool;
    std::vector<util::TargetSession*> worker_sessions;
    for (size_t i = 0; i < workers; ++i) {
        pool.push_back(std::make_unique<util::PgConn>(config.target_conn, "target"));
        pool.back()->set_response_timeout(response_timeout);
        pool.back()->set_session_sql(session);
        worker_sessions.push_back(pool.back().get());
    }
    if (workers > 1) {
        spdlog::info("applying on up to {} target connections (--parallelism)", workers);
    }
    probe.set_parallelism(workers);
    if (!memo_in_target) {
        spdlog::info(
            "staging is not the target database: checkpoints are written after each "
            "target commit (at-least-once; a crash may re-apply the last transactions)");
    }

    sequencer::ApplyOptions ao;
    ao.flush_size = config.flush_size;
    ao.max_message_bytes = config.target_max_message_bytes;
    ao.flush_period = config.flush_period;
    ao.timestamp_limit = config.timestamp_limit;
    ao.truncate_mode = config.truncate_mode;
    ao.retry = config.retry;
    ao.collapse = config.collapse_mutations;
    ao.workers = workers;
    ao.ordered_commits = !config.unordered_commits;
    ao.parallel_table_groups = config.enable_parallel_applies;

    util::Backoff backoff(config.retry);
    OutageLog outage;
    Ordinal progress_at_failure = progress.ordinal();
    while (!stop_requested().load()) {
        try {
            // Each run reads the target catalog afresh.
            target::TableCatalog run_catalog(
                dialect, target_schema,
                [database = dialect.catalog_database(target_schema),
                 cockroach = dialect.product() == target::TargetProduct::kCockroach](
                    util::TargetSession& s, const TableName& name) {
                    return target::load_target_table(s, name, database, cockroach);
                });
            sequencer::ApplyContext apply{
                ao, codec, run_catalog, memo, key, staging_conn.get(), progress, probe};
            // With the memo in the target, no transaction of this process commits once
            // another holds the stream (staging/lease.h).
            sequencer::TransactionFence fence{
                lease.fence_sql(), lease.fence_params(),
                fmt::format("this process no longer holds the lease of stream {}: another "
                            "process took it over; stopping (the transaction was not committed, "
                            "the other process applies it)",
                            key)};
            if (memo_in_target) {
                apply.fence = &fence;
            }
            Pipeline pipeline{config, source, apply, target, worker_sessions, stage};
            pipeline.run();
            break;
        } catch (const Error& e) {
            if (!e.retryable()) {
                throw;
            }
            if (stop_requested().load()) {
                // Everything committed is consistent; what failed is sent again next time.
                spdlog::warn("stopping on request after: {}", e.what());
                break;
            }
            if (progress.ordinal() > progress_at_failure) {
                backoff.reset();  // it made progress since the last failure
                outage.recovered("replication");
            }
            progress_at_failure = progress.ordinal();
            // Retryable means a new run may succeed (a server back from a restart, a lock
            // released): keep trying, whatever --maxRetries says of in-place retries.
            Duration d = backoff.next();
            outage.failed(fmt::format("replication from {}", codec.describe(progress.get())), e, d);
            sleep_unless_stopped(d);
        }
    }
    if (std::string lost = keeper.lost(); !lost.empty()) {
        throw fatal(lost);
    }
    keeper.stop(/*release=*/true);
    spdlog::info("stopped; everything up to {} is applied on the target{}",
                 codec.describe(progress.get()),
                 source.name() == "pglogical" ? " and confirmed to the source" : "");
    return 0;
}

}  // namespace

int run_replication(const CommonConfig& config, const SourceConfig& source_config,
                    source::RowStage* stage) {
    try {
        return run(config, source_config, stage);
    } catch (const Error& e) {
        if (e.retryable() && stop_requested().load()) {
            // A stop while connecting or retrying is a clean stop: nothing was left half done.
            spdlog::info("stopped on request before replication could start: {}", e.what());
            return 0;
        }
        throw;
    }
}

}  // namespace rep::app
