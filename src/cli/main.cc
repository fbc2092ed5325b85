// replicator: change-data-capture into CockroachDB and PostgreSQL.
// Subcommands: pglogical, mylogical, oraclelogminer, userscript, version. Exit status: 0 success or
// clean stop, 1 replication error, 2 bad command line.

#include "app/runner.h"
#include "app/signals.h"
#include "base/duration.h"
#include "base/error.h"
#include "base/log.h"
#include "base/version.h"
#include "cli/mylogical_cmd.h"
#include "cli/oraclelogminer_cmd.h"
#include "cli/pglogical_cmd.h"
#include "cli/userscript_cmd.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

namespace {

void print_version() {
    int pq = PQlibVersion();
    std::cout << "replicator " << rep::kVersion << "\n"
              << "libpq " << pq / 10000 << "." << pq % 10000 << "\n"
              << "staging memo format (MOLT Replicator compatible): pglogical-wal-offset-"
                 "<targetSchema> = LSN text; mysql-wal-offset-<targetSchema> = GTID set text; "
                 "_oracle_checkpoint rows and oraclelogminer-scn-<targetSchema> = SCN[:XIDs]\n";
}

}  // namespace

int main(int argc, char** argv) {
    // JavaScriptCore (--userscript) is told to allocate with the process's malloc, jemalloc
    // (src/CMakeLists.txt), instead of its own allocator: that one hands freed pages back to
    // the system every few milliseconds and faults them in again as the script stage
    // allocates the next batch, each return a TLB shootdown across the process's threads.
    // Side by side (bench/userscript.sh, docs/userscripts.md §8) the script's cost per row
    // fell by about 40%. WebKit's allocator reads the variable once, at its first allocation,
    // so it is set here, before any thread or engine exists; any value means yes.
    setenv("Malloc", "1", 1);  // NOLINT(concurrency-mt-unsafe): no other thread exists yet
    CLI::App app{
        "replicator: change-data-capture from PostgreSQL, MySQL, MariaDB and Oracle into "
        "CockroachDB or PostgreSQL, "
        "a drop-in for MOLT Replicator",
        "replicator"};
    app.require_subcommand(1);
    bool show_version = false;
    app.add_flag("--version", show_version, "Print the version and exit");
    app.add_subcommand("version", "Print the version and build information");

    rep::LogOptions log_options;
    rep::cli::PglogicalCommand pg_command;
    CLI::App* pglogical = rep::cli::add_pglogical_command(app, pg_command, log_options);
    rep::cli::MylogicalCommand my_command;
    CLI::App* mylogical = rep::cli::add_mylogical_command(app, my_command, log_options);
    rep::cli::OraclelogminerCommand ora_command;
    CLI::App* oraclelogminer = rep::cli::add_oraclelogminer_command(app, ora_command, log_options);
    rep::cli::UserscriptCommand us_command;
    CLI::App* userscript = rep::cli::add_userscript_command(app, us_command);

    if (argc == 2 && std::string(argv[1]) == "--version") {
        print_version();
        return 0;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Name an unknown flag before complaining about missing required ones: it is usually
        // the real mistake (a typo in a flag name).
        for (CLI::App* sub : app.get_subcommands()) {
            for (const std::string& extra : sub->remaining()) {
                if (extra.rfind('-', 0) == 0) {
                    std::cerr << "unknown flag " << extra << " for replicator " << sub->get_name()
                              << "\nRun with --help for more information.\n";
                    return 2;
                }
            }
        }
        app.exit(e);
        return 2;
    }
    if (pglogical->parsed() || mylogical->parsed() || oraclelogminer->parsed()) {
        const rep::app::CommonConfig& common = pglogical->parsed()   ? pg_command.common
                                               : mylogical->parsed() ? my_command.common
                                                                     : ora_command.common;
        const auto& snap = common.snapshots;
        std::string problem;
        if (common.parallelism * 5 > common.target_max_pool_size * 4) {
            problem = fmt::format(
                "--parallelism {} needs --targetMaxPoolSize of at least {} (parallelism may use "
                "at most 80% of the pool); raise --targetMaxPoolSize or lower --parallelism",
                common.parallelism, (common.parallelism * 5 + 3) / 4);
        } else if (common.lease_ttl < std::chrono::seconds(1)) {
            problem = fmt::format("--leaseTTL must be at least 1s (got {})",
                                  rep::format_go_duration(common.lease_ttl));
        } else if (snap.period.count() > 0 && common.metrics_addr.empty()) {
            problem = "--metricsSnapshotPeriod needs --metricsAddr";
        } else if (snap.period.count() > 0 && snap.retention_time.count() == 0 &&
                   snap.retention_bytes == 0) {
            problem =
                "--metricsSnapshotPeriod needs a retention policy: set "
                "--metricsSnapshotRetentionTime or --metricsSnapshotRetentionSize";
        }
        if (!problem.empty()) {
            std::cerr << problem << "\nRun with --help for more information.\n";
            return 2;
        }
    }
    if (app.got_subcommand("version")) {
        print_version();
        return 0;
    }
    try {
        rep::init_logging(log_options);
        rep::app::install_signal_handlers();
        if (pglogical->parsed()) {
            pg_command.source.spool_dir = pg_command.common.data_dir / "pglogical-spool";
            rep::app::SourceConfig source = pg_command.source;
            return rep::app::run_replication(pg_command.common, source);
        }
        if (mylogical->parsed()) {
            rep::app::SourceConfig source = my_command.source;
            return rep::app::run_replication(my_command.common, source);
        }
        if (oraclelogminer->parsed()) {
            ora_command.source.staging_conn = ora_command.common.staging_conn.empty()
                                                  ? ora_command.common.target_conn
                                                  : ora_command.common.staging_conn;
            ora_command.source.spill_dir = ora_command.common.data_dir / "oracle-spill";
            rep::app::SourceConfig source = ora_command.source;
            return rep::app::run_replication(ora_command.common, source);
        }
        if (userscript->parsed()) {
            return rep::cli::run_userscript_command(us_command);
        }
    } catch (const rep::Error& e) {
        spdlog::error("{}", e.what());
        spdlog::default_logger()->flush();
        std::cerr << "replicator: " << e.what() << std::endl;
        return e.exit_status();
    } catch (const std::exception& e) {
        spdlog::error("unexpected error: {}", e.what());
        std::cerr << "replicator: unexpected error: " << e.what() << std::endl;
        return 1;
    }
    return 0;
}
