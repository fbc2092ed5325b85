#include "cli/mylogical_cmd.h"

#include "cli/common_flags.h"

namespace rep::cli {

CLI::App* add_mylogical_command(CLI::App& parent, MylogicalCommand& command, LogOptions& log) {
    mysql::MylogicalConfig& c = command.source;
    CLI::App* cmd = parent.add_subcommand(
        "mylogical",
        "Replicate a MySQL or MariaDB source into CockroachDB or PostgreSQL from its binary log "
        "(GTID mode), resuming from the staging schema's checkpoint");
    cmd->add_option("--sourceConn", c.source_conn,
                    "Source connection: mysql://user:password@host:port/database (TLS with "
                    "?sslmode=require|verify-ca|verify-full&sslrootcert=&sslcert=&sslkey=). "
                    "Without a password in it: the file named by ?passwordFile=, or else the "
                    "MYSQL_PWD environment variable")
        ->required();
    cmd->add_option("--defaultGTIDSet", c.default_gtid_set,
                    "GTID set to start after on the first run (MySQL uuid:1-29, MariaDB "
                    "domain-server-seq); later runs resume from the staging memo and ignore it");
    cmd->add_flag("--fetchMetadata", c.fetch_metadata,
                  "Read column names, keys and types from information_schema when the server does "
                  "not log them (binlog_row_metadata not FULL)");
    cmd->add_flag("--acceptDataLoss", c.accept_data_loss,
                  "Start although the source has purged binary logs with transactions after the "
                  "checkpoint: those transactions are lost. Without it such a start fails");
    cmd->add_option("--replicationProcessID", c.replication_process_id,
                    "Server id this replica reports to the source (must be unique among replicas)")
        ->capture_default_str();
    cmd->add_option_function<std::string>(
           "--zeroDates",
           [&c](const std::string& v) {
               c.values.zero_date = v == "error" ? mysql::ValueOptions::ZeroDate::kError
                                                 : mysql::ValueOptions::ZeroDate::kNull;
           },
           "What a zero date ('0000-00-00') becomes: null, or error (stop and name the column)")
        ->check(CLI::IsMember({"null", "error"}))
        ->default_str("null");
    add_common_flags(*cmd, command.common, log);
    return cmd;
}

}  // namespace rep::cli
