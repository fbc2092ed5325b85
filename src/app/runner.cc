#include "app/runner.h"

#include "app/monitor.h"
#include "app/signals.h"
#include "base/conninfo.h"
#include "base/error.h"
#include "sequencer/parallel_apply.h"
#include "staging/memo.h"
#include "util/pg_conn.h"

#include "http/status_server.h"
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <thread>

namespace rep {
namespace {

// Sleeps up to `d`, waking early when a stop is requested.
void sleep_unless_stopped(Duration d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stop_requested().load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Runs `fn` until it succeeds, retrying retryable errors with backoff; fatal errors and an
// exhausted retry budget propagate.
template <typename Fn>
auto with_retries(const RetryPolicy& policy, const char* what, Fn&& fn) {
    Backoff backoff(policy);
    for (;;) {
        try {
            return fn();
        } catch (const Error& e) {
            if (!e.retryable() || backoff.exhausted() || stop_requested().load()) {
                throw;
            }
            Duration d = backoff.next();
            spdlog::warn("{} failed, retrying in {}: {}", what, format_go_duration(d), e.what());
            sleep_unless_stopped(d);
        }
    }
}

struct Pipeline {
    const CommonConfig& config;
    SourceAdapter& source;
    const Dialect& dialect;
    SchemaRef target_schema;
    PgConn& target;
    PgConn* staging;
    Memo& memo;
    ApplyOptions apply_options;
    metrics::Probe& probe;
    std::vector<PgConn*> workers;  // more than one: parallel apply

    // One run of reader + applier. Returns normally on a requested stop; throws the first
    // error either side raised.
    void run(Progress& progress) {
        BoundedQueue<ChangeItem> queue(config.target_apply_queue_size);
        std::atomic<bool> pipeline_stop{false};
        std::atomic<bool> reader_stop{false};
        std::exception_ptr reader_error;
        std::exception_ptr apply_error;

        size_t capacity = config.target_apply_queue_size;
        probe.set_queue_sampler([&queue, capacity] { return std::pair{queue.weight(), capacity}; });
        struct ResetSampler {
            metrics::Probe& probe;
            size_t capacity;
            ~ResetSampler() {
                probe.set_queue_sampler([c = capacity] { return std::pair<size_t, size_t>{0, c}; });
            }
        } reset_sampler{probe, capacity};

        std::thread reader_thread([&] {
            try {
                source.run_reader(queue, progress, probe, reader_stop);
            } catch (...) {
                reader_error = std::current_exception();
            }
            pipeline_stop = true;
            queue.close();
        });
        // Forward a signal to the apply side; the reader keeps serving the source until the
        // applier has committed what it will commit.
        std::thread watcher([&] {
            while (!pipeline_stop.load()) {
                if (stop_requested().load()) {
                    pipeline_stop = true;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
        try {
            // What earlier runs committed beyond the plain checkpoint (parallel commits); the
            // source sends those transactions again and they must be skipped.
            // Connections that broke in an earlier run are replaced here, between
            // transactions, where nothing can be lost by it.
            for (PgConn* c : {&target, staging}) {
                if (c != nullptr && !c->connected()) {
                    c->connect();
                }
            }
            AppliedSet applied;
            if (source.parallel_apply()) {
                applied = recover_applied(memo, staging != nullptr ? *staging : target,
                                          apply_options.memo_key);
                if (!applied.empty()) {
                    spdlog::info(
                        "{} range(s) of source transactions were committed beyond LSN {} by "
                        "parallel workers; they are skipped when the source sends them again",
                        applied.ranges().size(), applied.prefix().str());
                }
            }
            if (workers.size() > 1) {
                ParallelOptions po;
                po.workers = workers.size();
                po.parallel_table_groups = config.enable_parallel_applies;
                ParallelApplyLoop loop(apply_options, po, dialect, target_schema, target, workers,
                                       memo, staging, queue, progress, probe, applied);
                loop.run(pipeline_stop);
            } else {
                ApplyOptions options = apply_options;
                options.applied = &applied;
                ApplyLoop loop(options, dialect, target_schema, target, memo, staging, &queue,
                               progress, probe);
                loop.run(pipeline_stop);
            }
        } catch (...) {
            apply_error = std::current_exception();
        }
        pipeline_stop = true;
        reader_stop = true;
        queue.close();
        reader_thread.join();
        watcher.join();
        if (apply_error) {
            std::rethrow_exception(apply_error);
        }
        if (reader_error) {
            std::rethrow_exception(reader_error);
        }
    }
};

}  // namespace

nlohmann::json describe_common(const CommonConfig& c) {
    return {
        {"targetConn", redact_conninfo(c.target_conn)},
        {"stagingConn", c.staging_conn.empty() ? "" : redact_conninfo(c.staging_conn)},
        {"targetSchema", c.target_schema},
        {"stagingSchema", c.staging_schema},
        {"stagingCreateSchema", c.staging_create_schema},
        {"flushSize", c.flush_size},
        {"flushPeriod", format_go_duration(c.flush_period)},
        {"targetApplyQueueSize", c.target_apply_queue_size},
        {"applyTimeout", format_go_duration(c.apply_timeout)},
        {"maxRetries", c.retry.max_retries},
        {"retryInitialBackoff", format_go_duration(c.retry.initial_backoff)},
        {"retryMaxBackoff", format_go_duration(c.retry.max_backoff)},
        {"retryMultiplier", c.retry.multiplier},
        {"truncateMode", c.truncate_mode == TruncateMode::kApply    ? "apply"
                         : c.truncate_mode == TruncateMode::kIgnore ? "ignore"
                                                                    : "error"},
        {"collapseMutations", c.collapse_mutations},
        {"timestampLimit", c.timestamp_limit},
        {"dataDir", c.data_dir.string()},
        {"metricsAddr", c.metrics_addr},
        {"stallTimeout", format_go_duration(c.stall_timeout)},
        {"metricsSnapshotPeriod", format_go_duration(c.snapshots.period)},
        {"metricsSnapshotCompression", c.snapshots.gzip ? "gzip" : "none"},
        {"metricsSnapshotRetentionTime", format_go_duration(c.snapshots.retention_time)},
        {"metricsSnapshotRetentionSize", c.snapshots.retention_bytes},
    };
}

int run_replication(const CommonConfig& config, SourceAdapter& source) {
    SchemaRef target_schema = SchemaRef::parse(config.target_schema, "--targetSchema");
    SchemaRef staging_schema = SchemaRef::parse(config.staging_schema, "--stagingSchema");

    // Endpoints first, so /_/healthz answers (with the reason) while we connect.
    metrics::Probe probe(target_schema.raw, source.name());
    Progress progress;
    nlohmann::json described = describe_common(config);
    described["command"] = source.name();
    described.update(source.describe());
    MonitorOptions mo;
    mo.target_conn = config.target_conn;
    mo.stall_timeout = config.stall_timeout;
    mo.source_check = [&source, &probe] { return source.check_source(probe); };
    mo.describe_position = [&source, &progress] { return source.describe_position(progress); };
    Monitor monitor(mo, probe, progress, described);
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

    PgConn target(config.target_conn, "target");
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.apply_timeout);
    std::vector<std::string> session = {
        "SET application_name = 'replicator'",
        fmt::format("SET statement_timeout = {}", timeout_ms.count())};
    target.set_session_sql(session);
    with_retries(config.retry, "connecting to the target", [&] { target.connect(); });
    Dialect dialect(detect_product(target.query_value("SELECT version()").value_or("")));
    if (dialect.product() == TargetProduct::kPostgres) {
        // The checkpoint is only as durable as the commit that carries it: once a commit is
        // acknowledged the source is told it may forget that data. With the server's
        // synchronous_commit off, a crash could lose acknowledged commits, and with them
        // transactions the source will never send again. Insist on it for our session.
        session.push_back("SET synchronous_commit = on");
        target.set_session_sql(session);
        target.exec("SET synchronous_commit = on");
    }
    spdlog::info("connected to target {} ({})", redact_conninfo(config.target_conn),
                 dialect.name());
    if (dialect.product() == TargetProduct::kPostgres && !target_schema.database.empty()) {
        auto db = target.query_value("SELECT current_database()");
        if (db != target_schema.database) {
            throw fatal(
                fmt::format("--targetSchema {} names database \"{}\", but --targetConn "
                            "connects to database \"{}\"",
                            target_schema.raw, target_schema.database, db.value_or("?")));
        }
    }
    if (!target.query_value("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                            {target_schema.schema})) {
        throw fatal(
            fmt::format("target schema \"{}\" (--targetSchema {}) does not exist on the "
                        "target; create it and the tables to replicate into",
                        target_schema.schema, target_schema.raw));
    }

    bool memo_in_target = config.staging_conn.empty() || config.staging_conn == config.target_conn;
    std::unique_ptr<PgConn> staging_conn;
    if (!memo_in_target) {
        staging_conn = std::make_unique<PgConn>(config.staging_conn, "staging");
        with_retries(config.retry, "connecting to staging", [&] { staging_conn->connect(); });
    }
    PgConn& staging = memo_in_target ? target : *staging_conn;
    Dialect staging_dialect(detect_product(staging.query_value("SELECT version()").value_or("")));
    Memo memo(staging_dialect, staging_schema);
    memo.ensure(staging, config.staging_create_schema);
    std::string key = source.memo_key(target_schema);

    with_retries(config.retry, "checking the source", [&] { source.preflight(); });
    std::optional<std::string> saved = memo.read(staging, key);
    if (source.parallel_apply()) {
        // Parallel commits may have left records beyond the plain row (staging.md §4.2).
        AppliedSet applied = recover_applied(memo, staging, key);
        if (!applied.prefix().is_zero()) {
            saved = applied.prefix().str();
        }
    }
    source.choose_start(saved, memo.table_sql());

    ApplyOptions ao;
    ao.flush_size = config.flush_size;
    ao.flush_period = config.flush_period;
    ao.truncate_mode = config.truncate_mode;
    ao.collapse = config.collapse_mutations;
    ao.retry = config.retry;
    ao.memo_key = key;
    ao.memo_in_target = memo_in_target;
    ao.timestamp_limit = config.timestamp_limit;

    // Parallel apply: one connection per worker, with the target session's settings,
    // connected on first use so a light load opens few of them.
    std::vector<std::unique_ptr<PgConn>> pool;
    std::vector<PgConn*> workers;
    if (source.parallel_apply() && config.parallelism > 1) {
        for (size_t i = 0; i < config.parallelism; ++i) {
            pool.push_back(std::make_unique<PgConn>(config.target_conn, "target"));
            pool.back()->set_session_sql(session);
            workers.push_back(pool.back().get());
        }
        spdlog::info("applying on up to {} target connections (--parallelism)", workers.size());
    }
    probe.set_parallelism(std::max<size_t>(1, workers.size()));
    if (!memo_in_target) {
        spdlog::info(
            "staging is not the target database: checkpoints are written after each "
            "target commit (at-least-once; a crash may re-apply the last transactions)");
    }

    Pipeline pipeline{config, source, dialect, target_schema, target, staging_conn.get(),
                      memo,   ao,     probe,   workers};
    Backoff backoff(config.retry);
    Lsn progress_at_failure = progress.get();
    while (!stop_requested().load()) {
        try {
            pipeline.run(progress);
            break;
        } catch (const Error& e) {
            if (!e.retryable() || stop_requested().load()) {
                throw;
            }
            if (progress.get() > progress_at_failure) {
                backoff.reset();  // it made progress since the last failure
            }
            progress_at_failure = progress.get();
            if (backoff.exhausted()) {
                throw Error(
                    ErrorKind::kFatal,
                    fmt::format("giving up after {} retries without progress (--maxRetries): {}",
                                backoff.attempts(), e.what()));
            }
            Duration d = backoff.next();
            spdlog::warn("replication interrupted, resuming from {} in {}: {}",
                         source.describe_position(progress), format_go_duration(d), e.what());
            sleep_unless_stopped(d);
        }
    }
    spdlog::info("stopped; everything up to {} is applied on the target{}",
                 source.describe_position(progress),
                 source.name() == "pglogical" ? " and confirmed to the source" : "");
    return 0;
}

}  // namespace rep
