#include "cli/common_flags.h"

#include "base/error.h"
#include "cli/flags.h"
#include "core/table_name.h"

#include "http/status_server.h"
#include "metrics/snapshotter.h"

namespace rep::cli {

void add_common_flags(CLI::App& app, app::CommonConfig& c, LogOptions& log) {
    app.add_option("--targetConn", c.target_conn,
                   "Target CockroachDB or PostgreSQL connection string")
        ->required();
    app.add_option("--targetSchema", c.target_schema,
                   "Target schema as database.schema (e.g. defaultdb.public)")
        ->required();
    app.add_option("--stagingConn", c.staging_conn,
                   "Staging database connection string (default: the target). With the target "
                   "as staging, checkpoints commit atomically with the data")
        ->capture_default_str();
    app.add_option("--stagingSchema", c.staging_schema,
                   "Schema holding the memo checkpoint table; pass the same value on every run")
        ->capture_default_str();
    app.add_flag("--stagingCreateSchema", c.staging_create_schema,
                 "Create the staging schema and memo table if missing (first run)");
    app.add_option("--flushSize", c.flush_size,
                   "Rows per target statement, and the size at which grouped transactions commit")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    add_duration(app, "--flushPeriod", c.flush_period,
                 "Longest time small source transactions are grouped before a target commit");
    app.add_option("--targetApplyQueueSize", c.target_apply_queue_size,
                   "Row changes buffered between the source reader and the target applier "
                   "(and at most 128 MiB of their values)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--targetMaxMessageBytes", c.target_max_message_bytes,
                   "Most bytes of row values one target statement carries; wider batches are "
                   "written in pieces (CockroachDB refuses messages over its "
                   "sql.conn.max_read_buffer_message_size, 16 MiB by default)")
        ->check(CLI::Range(size_t{1024}, size_t{1} << 30))
        ->capture_default_str();
    app.add_option("--timestampLimit", c.timestamp_limit,
                   "Most source transactions grouped into one target transaction")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    add_duration(app, "--applyTimeout", c.apply_timeout,
                 "Statement timeout for each target statement, and how long a target session may "
                 "stay idle inside a transaction");
    app.add_option("--maxRetries", c.retry.max_retries,
                   "In-place retries of a target transaction that failed with a retryable error "
                   "before the pipeline restarts from the checkpoint (outages are waited out)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    add_duration(app, "--retryInitialBackoff", c.retry.initial_backoff, "First retry delay");
    add_duration(app, "--retryMaxBackoff", c.retry.max_backoff, "Longest retry delay");
    app.add_option("--retryMultiplier", c.retry.multiplier, "Backoff growth factor")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option_function<std::string>(
           "--truncateMode",
           [&c](const std::string& mode) {
               using sequencer::TruncateMode;
               c.truncate_mode = mode == "ignore"  ? TruncateMode::kIgnore
                                 : mode == "error" ? TruncateMode::kError
                                                   : TruncateMode::kApply;
           },
           "What a source TRUNCATE does: apply (truncate the target table in order), ignore "
           "(log and skip) or error (stop)")
        ->check(CLI::IsMember({"apply", "ignore", "error"}))
        ->default_str("apply");
    app.add_option(
           "--skipTargetCheck", c.skip_target_checks,
           "Skip a start-up check of the target when you know better (repeat, or "
           "separate with commas). schema: every table the source sends has a target "
           "table whose columns, primary key and identity columns fit (each is still "
           "checked at its first change). types: a source column of a type whose text "
           "only the same kind of type or a string column takes (ranges, geometric "
           "types, xml, money, macaddr) goes to a column of another type. cascades: a foreign key "
           "from a table that is not replicated references a replicated one with ON "
           "DELETE CASCADE / SET NULL / SET DEFAULT or ON UPDATE SET NULL / SET "
           "DEFAULT, so applying the source's deletes and key changes would change its "
           "rows too")
        ->delimiter(',')
        ->check(CLI::IsMember({"schema", "types", "cascades"}));
    auto schema_check = [](const char* flag) {
        return CLI::Validator(
            [flag](std::string& value) -> std::string {
                try {
                    SchemaRef::parse(value, flag);
                } catch (const Error& e) {
                    return e.what();
                }
                return {};
            },
            "SCHEMA");
    };
    app.get_option("--targetSchema")->check(schema_check("--targetSchema"));
    app.get_option("--targetConn")->check(pg_conninfo_check());
    app.get_option("--stagingConn")->check(pg_conninfo_check());
    app.get_option("--stagingSchema")->check(schema_check("--stagingSchema"));
    app.add_option("--parallelism", c.parallelism,
                   "Most target transactions applied concurrently, each on its own connection; "
                   "they commit in source order, and source transactions touching the same rows "
                   "apply on one connection. How many of them take independent work adapts to the "
                   "commit rate (1: one connection)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_flag("--fixedParallelism", c.fixed_parallelism,
                 "Spread independent target transactions over all --parallelism connections "
                 "instead of over a number adapted to the commit rate");
    app.add_option("--targetMaxPoolSize", c.target_max_pool_size,
                   "Most target connections; --parallelism may use at most 80% of it")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--enableParallelApplies", c.enable_parallel_applies,
                   "Let tables ordered as a whole (a unique constraint without an index, an "
                   "exclusion constraint, or a foreign key between columns of different types, "
                   "among the tables foreign keys join them to) apply in parallel per such set "
                   "of tables (default: all of them in source order with each other); foreign "
                   "keys and unique indexes are tracked per row and per value either way")
        ->default_str("false");
    app.add_option("--collapseMutations", c.collapse_mutations,
                   "Fold the changes of each key within a target transaction into one row change "
                   "(tables without foreign keys or secondary unique indexes); false keeps strict "
                   "source order for every statement")
        ->default_str("true");
    app.add_option("--dataDir", c.data_dir,
                   "Directory for local files: spooled streamed transactions (pglogical), large "
                   "open transactions (oraclelogminer) and "
                   "metrics snapshots")
        ->capture_default_str();
    app.add_option("--metricsAddr", c.metrics_addr,
                   "Serve /_/varz (Prometheus), /_/healthz and /_/diag on :PORT or HOST:PORT")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
                try {
                    http::civetweb_listen_spec(v);
                } catch (const Error& e) {
                    return e.what();
                }
                return {};
            },
            "ADDR"));
    add_duration(app, "--leaseTTL", c.lease_ttl,
                 "How long the stream's lease lasts if its holder stops renewing it: one process "
                 "applies a stream at a time, another started with the same arguments waits as "
                 "a standby and takes over this long after the holder died (at least 1s)");
    add_duration(app, "--stallTimeout", c.stall_timeout,
                 "Report a stall (warning log, /_/healthz 503) when received changes are not "
                 "applied for this long");
    add_duration(app, "--metricsSnapshotPeriod", c.snapshots.period,
                 "Write a metrics snapshot to <dataDir>/metrics-snapshots this often (0: off; "
                 "15s-60s recommended; needs --metricsAddr)");
    app.add_option_function<std::string>(
           "--metricsSnapshotCompression",
           [&c](const std::string& v) { c.snapshots.gzip = v == "gzip"; },
           "Snapshot compression: gzip or none")
        ->check(CLI::IsMember({"gzip", "none"}))
        ->default_str("gzip");
    add_duration(app, "--metricsSnapshotRetentionTime", c.snapshots.retention_time,
                 "Delete snapshots older than this (0: no age limit)");
    app.add_option_function<std::string>(
           "--metricsSnapshotRetentionSize",
           [&c](const std::string& v) {
               if (v.empty()) {
                   c.snapshots.retention_bytes = 0;
                   return;
               }
               auto n = metrics::parse_byte_size(v);
               if (!n) {
                   throw CLI::ValidationError("--metricsSnapshotRetentionSize",
                                              "\"" + v + "\" is not a size such as 100MB or 1GiB");
               }
               c.snapshots.retention_bytes = *n;
           },
           "Delete the oldest snapshots once they take more than this (e.g. 100MB, 1GiB; empty: "
           "no size limit)")
        ->type_name("SIZE");
    app.add_option("--userscript", c.userscript,
                   "TypeScript (or JavaScript) file whose configureTargetSchema handlers "
                   "filter, transform and route rows before they are applied (MOLT's API, "
                   "import * as api from \"replicator@v2\"); see docs/userscripts.md")
        ->type_name("FILE");
    app.add_flag("--showRowContentsInErrors", c.show_row_contents,
                 "Keep row values in the server's error texts (\"Failing row contains (...)\", "
                 "\"Key (id)=(...)\", the value a data error quotes); by default they are "
                 "replaced with <hidden> before reaching logs, stderr or /_/diag. For debugging");
    app.add_flag("--diagShowHosts", c.diag_show_hosts,
                 "Show user names and host names in /_/diag and /_/healthz, which anyone who "
                 "can reach --metricsAddr may read (by default they show <hidden>; logs keep "
                 "them)");
    add_log_flags(app, log);
}

}  // namespace rep::cli
