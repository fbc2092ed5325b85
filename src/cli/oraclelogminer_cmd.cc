#include "cli/oraclelogminer_cmd.h"

#include "cli/common_flags.h"

namespace rep::cli {

CLI::App* add_oraclelogminer_command(CLI::App& parent, OraclelogminerCommand& command,
                                     LogOptions& log) {
    oracle::OracleConfig& c = command.source;
    CLI::App* cmd = parent.add_subcommand(
        "oraclelogminer",
        "Replicate an Oracle schema into CockroachDB or PostgreSQL through LogMiner, resuming "
        "from the staging schema's _oracle_checkpoint table (docs/oraclelogminer.md)");
    cmd->add_option("--sourceConn", c.source_conn,
                    "Source connection to CDB$ROOT (or to a non-CDB database): "
                    "oracle://user:password@host:port/SERVICE (C## URL-encoded: C%23%23USER)")
        ->required();
    cmd->add_option("--sourcePDBConn", c.source_pdb_conn,
                    "Connection to the PDB holding --sourceSchema (multitenant databases): "
                    "oracle://user:password@host:port/PDB_SERVICE");
    cmd->add_option("--sourceSchema", c.source_schema,
                    "The Oracle schema (user) that owns the replicated tables, as Oracle stores "
                    "it (upper case unless created quoted)")
        ->required();
    cmd->add_option("--scn", c.scn,
                    "First run only: the SCN of the snapshot the target was loaded from; "
                    "transactions committed below it are not applied");
    cmd->add_option("--backfillFromSCN", c.backfill_from_scn,
                    "First run only: where mining starts, the start SCN of the oldest "
                    "transaction open at --scn (default: the oldest transaction open now if "
                    "it began before --scn, else --scn)");
    cmd->add_option("--scnWindowSize", c.scn_window_size,
                    "Most SCNs one LogMiner query covers; 0 or less: no limit")
        ->capture_default_str();
    cmd->add_option("--oracle-application-users", c.application_users,
                    "First run without --backfillFromSCN: mining starts at the oldest open "
                    "transaction of these Oracle users (comma-separated, as Oracle stores "
                    "them) if it began before --scn; default: of any user")
        ->delimiter(',');
    cmd->add_option("--oracleClientLibDir", c.client_lib_dir,
                    "Directory of Oracle Instant Client (libclntsh.so); default: "
                    "ORACLE_CLIENT_LIB_DIR, the library path, then $ORACLE_HOME/lib");
    cmd->add_option("--transactionBufferBytes", c.transaction_buffer_bytes,
                    "Bytes of open Oracle transactions' changes held in memory; beyond it the "
                    "largest open transactions are moved to files under <dataDir>/oracle-spill "
                    "until they end")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    add_common_flags(*cmd, command.common, log);
    return cmd;
}

}  // namespace rep::cli
