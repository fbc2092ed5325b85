#include "app/runner.h"

#include "app/lease_keeper.h"
#include "app/monitor.h"
#include "app/pipeline.h"
#include "app/signals.h"
#include "app/stream_fence.h"
#include "app/takeover.h"
#include "app/target_preflight.h"
#include "app/waiting.h"
#include "base/conninfo.h"
#include "base/error.h"
#include "staging/lease.h"
#include "staging/memo.h"
#include "target/catalog_queries.h"
#include "target/dialect.h"
#include "target/table_catalog.h"
#include "util/pg_conn.h"
#include "util/row_contents.h"

#include "http/status_server.h"
#include "metrics/snapshotter.h"
#include "script/apply_handlers.h"
#include "script/script_stage.h"
#include "script/userscript.h"
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace rep::app {

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
        {"showRowContentsInErrors", c.show_row_contents},
        {"diagShowHosts", c.diag_show_hosts},
        {"userscript", c.userscript},
    };
    if (c.unordered_commits) {
        j["unorderedCommits"] = true;
    }
    if (c.fixed_parallelism) {
        j["fixedParallelism"] = true;
    }
    return j;
}

namespace {

// Loads --userscript before anything connects, so a script that does not compile or throws
// while loading stops the replicator at once (exit status 2). The files it loads are kept
// in `modules`, for the loads of its table-level handlers on each apply worker.
std::unique_ptr<script::Userscript> load_userscript(
    const CommonConfig& config, const std::shared_ptr<script::ModuleCache>& modules) {
    script::UserscriptOptions options{config.userscript};
    options.modules = modules;
    auto script = std::make_unique<script::Userscript>(options);
    std::vector<std::string> schemas = script->configured_schemas();
    std::vector<std::string> tables = script->configured_table_names();
    bool schema_configured =
        std::find(schemas.begin(), schemas.end(), config.target_schema) != schemas.end();
    if (!schema_configured && (!schemas.empty() || tables.empty())) {
        std::string names;
        for (const std::string& n : schemas) {
            names += (names.empty() ? "\"" : ", \"") + n + "\"";
        }
        throw setup_error(fmt::format(
            "--userscript {} configures {} but not --targetSchema \"{}\"; its handlers would "
            "never run. Call api.configureTargetSchema(\"{}\", ...) (the name is compared "
            "exactly, case included)",
            config.userscript, names.empty() ? "no schema" : "schema " + names,
            config.target_schema, config.target_schema));
    }
    std::string what;
    if (schema_configured) {
        what = "schema-level handlers for " + config.target_schema;
    }
    if (!tables.empty()) {
        std::string names;
        for (const std::string& n : tables) {
            names += (names.empty() ? "" : ", ") + n;
        }
        what += (what.empty() ? "" : "; ") + std::string("table-level configuration for ") + names;
    }
    spdlog::info("userscript {} loaded: {}", script->name(), what);
    return script;
}

// Where to start: the checkpoint in the memo (with the parallel records beside it, for a
// source with stable ordinals, staging.md §4.3), as the source chooses from it.
Position read_start(staging::Memo& memo, util::TargetSession& staging, const std::string& key,
                    const PositionCodec& codec, source::Source& source) {
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
        staging::AppliedSet applied = staging::recover_applied(memo, staging, key, codec);
        if (applied.prefix() > (saved ? saved->ordinal : Ordinal())) {
            saved = codec.at(applied.prefix());
        }
    }
    return source.choose_start(saved, memo.table_sql());
}

int run(const CommonConfig& config, const SourceConfig& source_config, source::RowStage* stage) {
    util::set_show_row_contents(config.show_row_contents);
    std::unique_ptr<script::Userscript> script;
    std::unique_ptr<script::ScriptStage> script_stage;
    auto script_modules = std::make_shared<script::ModuleCache>();
    if (!config.userscript.empty() && stage == nullptr) {
        script = load_userscript(config, script_modules);
        if (script->has_table_handlers() && config.unordered_commits) {
            // Out-of-order commits rely on the conflict keys, which are the source's; a
            // table-level handler may change key values after they were computed.
            throw setup_error(
                "--unorderedCommits cannot be used with a userscript's configureTargetTables: "
                "its handlers may change key values, which the tracking that lets unrelated "
                "transactions commit out of order does not see; drop --unorderedCommits");
        }
    }
    // API v1's ignore and extras, applied where source columns meet the target's.
    target::TableCatalog::RulesOf column_rules;
    if (script) {
        std::map<std::string, target::ColumnRules> rules = script->column_rules();
        if (!rules.empty()) {
            std::vector<std::string> names;
            names.reserve(rules.size());
            for (const auto& entry : rules) {
                names.push_back(entry.first);
            }
            column_rules = [rules = std::move(rules), names = std::move(names),
                            schema = config.target_schema](const TableName& table) {
                std::string name = script::configured_name_for(names, table, schema);
                return name.empty() ? target::ColumnRules{} : rules.at(name);
            };
        }
    }
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
    if (script) {
        script_stage = std::make_unique<script::ScriptStage>(*script, config.target_schema, &probe);
        stage = script_stage.get();
    }
    Progress progress;
    source.add_metrics(probe, progress);
    nlohmann::json described = describe_common(config);
    described["command"] = source.name();
    described.update(source.describe());
    MonitorOptions mo;
    mo.target_conn = config.target_conn;
    mo.stall_timeout = config.stall_timeout;
    if (!config.diag_show_hosts) {
        for (const std::string& conn :
             {config.target_conn, config.staging_conn,
              std::visit([](const auto& c) { return c.source_conn; }, source_config)}) {
            auto ids = conninfo_identities(conn);
            mo.hidden_identities.insert(mo.hidden_identities.end(), ids.begin(), ids.end());
        }
    }
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
    // Start-up statements on the target, each retried on a connection lost or refused (the
    // target restarting, a cut) after a fresh connect, like everything after start-up.
    auto retried_on = [&](util::PgConn& conn, const char* what, auto&& fn) {
        bool first = true;
        return with_retries(config.retry, what, [&] {
            if (!first || !conn.connected()) {
                conn.connect();
            }
            first = false;
            return fn();
        });
    };
    auto on_target = [&](const char* what, auto&& fn) { return retried_on(target, what, fn); };
    with_retries(config.retry, "connecting to the target", [&] { target.connect(); });
    target::Dialect dialect(target::detect_product(on_target("reading the target's version", [&] {
        return target.query_value("SELECT version()").value_or("");
    })));
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
        on_target("setting up the target session", [&] {
            target.execute("SET synchronous_commit = on");
            target.execute("SET lc_monetary = 'C'");
        });
    }
    if (dialect.product() == target::TargetProduct::kCockroach) {
        // The stream's lease fences each transaction by a plain read of its row, which only a
        // SERIALIZABLE transaction keeps valid until COMMIT (staging/lease.h); do not inherit
        // a cluster default of READ COMMITTED.
        session.push_back("SET default_transaction_isolation = 'serializable'");
        target.set_session_sql(session);
        on_target("setting up the target session", [&] { target.execute(session.back()); });
    }
    spdlog::info("connected to target {} ({})", redact_conninfo(config.target_conn),
                 dialect.name());
    if (dialect.product() == target::TargetProduct::kPostgres && !target_schema.database.empty()) {
        auto db = on_target("checking the target database",
                            [&] { return target.query_value("SELECT current_database()"); });
        if (db != target_schema.database) {
            throw fatal(
                fmt::format("--targetSchema {} names database \"{}\", but --targetConn "
                            "connects to database \"{}\"",
                            target_schema.raw, target_schema.database, db.value_or("?")));
        }
    }
    if (!on_target("checking the target schema", [&] {
            return target.query_value(
                target::in_database("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                    dialect.catalog_database(target_schema)),
                {target_schema.schema});
        })) {
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
        target::detect_product(retried_on(staging, "reading the staging database's version", [&] {
            return staging.query_value("SELECT version()").value_or("");
        })));
    staging::Memo memo(staging_dialect, staging_schema);
    retried_on(staging, "checking the memo table",
               [&] { memo.ensure(staging, config.staging_create_schema); });
    std::string key = source.memo_key(target_schema);

    with_retries(config.retry, "checking the source", [&] { source.preflight(); });
    if (script) {
        // The script decides which tables and columns reach the target; each target table is
        // checked at its first change instead.
        spdlog::info("target preflight skipped: the userscript {} shapes what reaches the target",
                     script->name());
        for (const std::string& table : source.table_names()) {
            probe.script_series(table, "onRowUpsert");  // script_* at zero from the start
            probe.script_series(table, "onRowDelete");
        }
        for (const std::string& configured : script->configured_tables()) {
            // Table-level handlers count under the target table's bare name (an all
            // upper-case name serves the table it folds to, apply_handlers.cc).
            std::string table = fold_upper_case(configured.substr(configured.rfind('.') + 1));
            auto handlers = script->table_handlers(configured);
            for (auto [fn, name] : {std::pair{handlers->on_upsert, "onRowUpsert"},
                                    std::pair{handlers->on_delete, "onRowDelete"},
                                    std::pair{handlers->on_write, "onWrite"}}) {
                if (fn != nullptr) {
                    probe.script_series(table, name);
                }
            }
        }
    } else {
        on_target("checking the target tables",
                  [&] { preflight_target(config, target, dialect, target_schema, source); });
        probe.declare_tables(source.table_names());
    }
    // The target tables each run reads at once (TablePrefetch): those the source sends, by
    // the same name. With a script the names the rows reach are the script's to choose.
    std::vector<std::string> prefetch_names;
    if (!script) {
        std::vector<SourceLayout> layouts = source.table_layouts();
        prefetch_names.reserve(layouts.size());
        for (const SourceLayout& l : layouts) {
            prefetch_names.push_back(l.relation->name);
        }
    }

    // One connection per apply worker, with the target session's settings, connected on
    // first use so a light load opens few of them. The runner's own connection serves the
    // dispatcher (catalog reads for conflict keys, checkpoint recovery).
    std::vector<std::unique_ptr<util::PgConn>> pool;
    std::vector<util::TargetSession*> worker_sessions;
    for (size_t i = 0; i < workers; ++i) {
        pool.push_back(std::make_unique<util::PgConn>(config.target_conn, "target"));
        pool.back()->set_response_timeout(response_timeout);
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
    for (auto& c : pool) {
        c->set_session_sql(session);
    }
    // While it holds the lease, every target session of this process holds the stream's
    // advisory lock (stream_fence.h); a standby holds none, so a takeover neither waits for
    // nor ends the standbys' sessions.
    const std::vector<std::string> standby_session = session;
    auto hold_stream_lock = [&](bool hold) {
        if (dialect.product() != target::TargetProduct::kPostgres) {
            return;
        }
        session = standby_session;
        if (hold) {
            session.push_back(hold_stream_lock_sql(stream_lock_id(key)));
        }
        target.set_session_sql(session);
        for (auto& c : pool) {
            c->set_session_sql(session);
        }
        if (target.connected()) {
            target.execute(hold ? session.back() : "SELECT pg_advisory_unlock_all()");
        }
    };

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
    ao.adaptive_parallelism = !config.fixed_parallelism;
    ao.parallel_table_groups = config.enable_parallel_applies;

    // One process applies a stream at a time (staging/lease.h): each turn of this loop waits
    // for the stream's lease as a standby while another process holds it, then applies from
    // the checkpoint until a stop, or until the lease is lost (taken over, or not renewed in
    // time, as in a long outage of the staging database): then back to waiting.
    staging::StreamLease lease(staging_dialect, memo.schema_sql(), key, lease_holder_name(),
                               config.lease_ttl);
    retried_on(staging, "checking the lease table", [&] { lease.ensure(staging); });
    for (;;) {
        std::unique_ptr<LeaseKeeper> held =
            hold_the_lease(config, lease, staging, target, dialect, monitor, source, key);
        if (!held) {
            spdlog::info("stopped on request while waiting as a standby");
            return 0;
        }
        LeaseKeeper& keeper = *held;
        probe.set_active(true);
        with_retries(config.retry, "connecting to the target", [&] {
            if (!target.connected()) {
                target.connect();
            }
            hold_stream_lock(true);
        });
        ao.target_on_this_machine = target.on_this_machine();
        if (dialect.product() == target::TargetProduct::kPostgres) {
            // Before the checkpoint is read: no session of an earlier process of this stream
            // may still commit (stream_fence.h).
            with_retries(config.retry, "waiting for earlier sessions of this stream on the target",
                         [&] {
                             if (!target.connected()) {
                                 target.connect();
                             }
                             wait_for_earlier_sessions(target, stream_lock_id(key),
                                                       config.apply_timeout, stop_requested());
                         });
        }
        Position start = retried_on(staging, "reading the checkpoint",
                                    [&] { return read_start(memo, staging, key, codec, source); });
        progress.start_at(start);
        probe.set_confirmed(start.ordinal);
        probe.set_checkpoint(start.ordinal);

        util::Backoff backoff(config.retry);
        OutageLog outage;
        Ordinal progress_at_failure = progress.ordinal();
        const std::string fenced_out = fmt::format(
            "this process no longer holds the lease of stream {}; the transaction was not "
            "committed",
            key);
        while (!stop_requested().load() && !keeper.revoked().load()) {
            try {
                // Each run reads the target catalog afresh: the first table it needs brings
                // the layouts of all the source sends, in one query instead of one or two
                // round trips per table (against a target in another region, the difference
                // between a start of a second and one of a few hundred milliseconds).
                target::TableCatalog run_catalog(
                    dialect, target_schema,
                    [database = dialect.catalog_database(target_schema),
                     cockroach = dialect.product() == target::TargetProduct::kCockroach,
                     prefetch = std::make_shared<target::TablePrefetch>(prefetch_names)](
                        util::TargetSession& s, const TableName& name) {
                        auto all = [&](const std::vector<std::string>& tables) {
                            return target::load_target_tables(s, name.schema, tables, database,
                                                              cockroach);
                        };
                        if (auto t = prefetch->take(name, all)) {
                            return t;
                        }
                        return target::load_target_table(s, name, database, cockroach);
                    },
                    column_rules);
                sequencer::ApplyContext apply{
                    ao, codec, run_catalog, memo, key, staging_conn.get(), progress, probe};
                // No transaction of this process commits once another holds the stream: the
                // fence statement opens each one (with the memo in the target), and the
                // revoked flag stops every COMMIT not yet sent.
                sequencer::TransactionFence fence{
                    memo_in_target ? lease.fence_sql() : std::string(), lease.fence_params(),
                    fenced_out, &keeper.revoked()};
                apply.fence = &fence;
                if (script && script->has_table_handlers()) {
                    apply.handled_table = [configured = script->configured_tables(),
                                           schema =
                                               config.target_schema](const target::TargetTable& t) {
                        return !script::configured_name_for(configured, t.name, schema).empty();
                    };
                    // One engine per apply worker, loaded from the files the first load read.
                    apply.table_hooks = [&] {
                        script::ApplyHandlersOptions o;
                        o.script.path = config.userscript;
                        o.script.modules = script_modules;
                        o.target_schema = config.target_schema;
                        o.dialect = &dialect;
                        o.probe = &probe;
                        return std::make_unique<script::ApplyHandlers>(std::move(o));
                    };
                }
                Pipeline pipeline{config, source, apply, target, worker_sessions, stage};
                pipeline.abort = &keeper.revoked();
                pipeline.run();
                break;
            } catch (const Error& e) {
                if (!keeper.revoked().load() && e.what() == fenced_out) {
                    keeper.revoke(fenced_out);  // the database noticed first
                }
                if (keeper.revoked().load()) {
                    break;  // whatever failed, the lease is gone: wait for it again
                }
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
                outage.failed(fmt::format("replication from {}", codec.describe(progress.get())), e,
                              d);
                sleep_unless_stopped(d);
            }
        }
        probe.set_active(false);
        if (keeper.revoked().load()) {
            keeper.stop(/*release=*/false);
            // The workers' sessions hold the stream's advisory lock; the next turn waits for
            // every such session to be gone, ours included. They reconnect on first use.
            for (auto& c : pool) {
                c->close();
            }
            try {
                hold_stream_lock(false);
            } catch (const Error&) {
                target.close();  // gone with the connection
            }
            spdlog::warn("{}: stopped applying at {}; waiting to take the stream again",
                         keeper.lost(), codec.describe(progress.get()));
            continue;
        }
        keeper.stop(/*release=*/true);
        spdlog::info("stopped; everything up to {} is applied on the target{}",
                     codec.describe(progress.get()),
                     source.name() == "pglogical" ? " and confirmed to the source" : "");
        return 0;
    }
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
