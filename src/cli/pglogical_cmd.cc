#include "cli/pglogical_cmd.h"

#include "cli/common_flags.h"
#include "cli/flags.h"

namespace rep::cli {

CLI::App* add_pglogical_command(CLI::App& parent, PglogicalCommand& command, LogOptions& log) {
    pg::PglogicalConfig& c = command.source;
    app::CommonConfig& common = command.common;
    CLI::App* cmd = parent.add_subcommand(
        "pglogical",
        "Replicate a PostgreSQL source into CockroachDB or PostgreSQL through a pgoutput logical "
        "replication slot, resuming from the staging schema's checkpoint");
    cmd->add_option("--sourceConn", c.source_conn,
                    "Source PostgreSQL connection string (libpq URL or key=value; TLS options "
                    "such as sslmode, sslrootcert, sslcert, sslkey are honoured)")
        ->required()
        ->check(pg_conninfo_check());
    cmd->add_option("--slotName", c.slot_name, "Logical replication slot (pgoutput) on the source")
        ->capture_default_str();
    cmd->add_option("--publicationName", c.publication_name, "Publication to replicate")
        ->required();
    cmd->add_flag("--createSlotAndPublication", c.create_slot_and_publication,
                  "Create the publication (FOR ALL TABLES) and slot if missing. Only for an empty "
                  "target: changes made before the slot exists are not replicated");
    add_duration(*cmd, "--standbyTimeout", c.standby_timeout,
                 "How often progress (standby status) is reported to the source");
    cmd->add_flag("!--disableStreaming", c.allow_streaming,
                  "Use pgoutput protocol 1 even where the server supports streaming (protocol 2)");
    cmd->add_flag("--acceptDataLoss", c.accept_data_loss,
                  "Start although the slot is ahead of the checkpoint (it was dropped and "
                  "re-created): the changes in between are lost. Without it such a start fails");
    cmd->add_flag("--unorderedCommits", common.unordered_commits,
                  "Let target transactions that share no rows commit in any order, for more speed "
                  "with --parallelism above 1. Risk: a reader of the target may meanwhile see a "
                  "later source transaction without an earlier one (per-row order and "
                  "transaction atomicity still hold)");
    add_common_flags(*cmd, common, log);
    return cmd;
}

}  // namespace rep::cli
