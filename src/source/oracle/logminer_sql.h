#pragma once

#include "source/oracle/logminer.h"

#include <string>
#include <vector>

namespace rep::oracle::sql {

// The SQL and PL/SQL text the OCI LogMiner session sends (reference §1.1-1.3, §1.8), kept
// apart from the OCI calls so that it is golden-tested and so that the simulated database
// behind the stand-in client library recognizes exactly these statements. Binds are by
// position (:1, :2, ...) and always text (SCNs as decimal digits).

// Pins the session's NLS settings so that SQL_REDO literals are in the forms redo_values.h
// reads (dates with century and time, '.' as the decimal character) and TIMESTAMP WITH
// LOCAL TIME ZONE renders in UTC.
std::vector<std::string> session_setup();

// SELECT CURRENT_SCN FROM V$DATABASE, as decimal text.
std::string current_scn();
// V$THREAD: THREAD#, STATUS, ENABLED, ENABLE_CHANGE#, LAST_REDO_CHANGE#.
std::string threads();
// Online logs for [:1 = lo, :2 = hi]: member, THREAD#, SEQUENCE#, FIRST_CHANGE#,
// NEXT_CHANGE#, STATUS.
std::string online_logs();
// Archived logs of the current incarnation for [:1 = lo, :2 = hi]: NAME, THREAD#, SEQUENCE#,
// FIRST_CHANGE#, NEXT_CHANGE#, STATUS.
std::string archived_logs();
// DBMS_LOGMNR.ADD_LOGFILE(:1); NEW starts the list.
std::string add_logfile(bool first);
// DBMS_LOGMNR.START_LOGMNR(:1 = lo, :2 = hi) from the online catalog, without ROWID terms.
// V$LOGMNR_LOGS: FILENAME, THREAD_ID, THREAD_SQN, LOW_SCN, NEXT_SCN.
std::string session_logs();
std::string start_logminer();
std::string end_logminer();
// The contents query (its binds: lo, hi, schema, then the PDB's name when `with_pdb`).
// Columns, in this order: SCN, RAWTOHEX(XID), OPERATION_CODE, CSF, ROLLBACK, STATUS,
// THREAD#, SEG_OWNER, TABLE_NAME, ROW_ID, RS_ID, SSN, TIMESTAMP, SRC_CON_NAME, INFO,
// SQL_REDO.
std::string contents(bool with_pdb);
inline constexpr size_t kContentsColumns = 16;

// Start-up checks (reference §3.9), on the CDB session: LOG_MODE, FORCE_LOGGING,
// SUPPLEMENTAL_LOG_DATA_MIN, SUPPLEMENTAL_LOG_DATA_PK, CDB.
std::string database_settings();
// On the PDB session (or the only database): the columns of the schema's tables (:1), as
// TABLE_NAME, COLUMN_NAME, DATA_TYPE, in table and column order.
std::string table_columns();
// The heartbeat (reference §3.8) on the PDB session: MERGE the current SCN (:1 and :2, the
// same value) into <schema>.REPLICATOR_SENTINEL, whose names MOLT's DDL leaves unquoted.
std::string sentinel_merge(const std::string& schema);
inline constexpr const char* kSentinelTable = "REPLICATOR_SENTINEL";

// The database server's clock, in its own time zone (no zone in the text): with ours, it
// gives the offset of the redo TIMESTAMP column (db_clock.h).
std::string database_time();
// The container a session is in (the PDB's name, as SRC_CON_NAME shows it).
std::string container_name();
// The primary key columns of the schema's (:1) tables: TABLE_NAME, COLUMN_NAME.
std::string primary_keys();
// The start SCN of the oldest open transaction (NULL if none), of any session, or with
// `users` > 0 of sessions of the users bound as :1..:users (--oracle-application-users).
std::string oldest_open_transaction(size_t users);

}  // namespace rep::oracle::sql
