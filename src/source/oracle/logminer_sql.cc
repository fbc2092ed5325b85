#include "source/oracle/logminer_sql.h"

namespace rep::oracle::sql {

std::vector<std::string> session_setup() {
    return {
        "ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS' "
        "NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9' "
        "NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM' "
        "NLS_NUMERIC_CHARACTERS = '.,'",
        "ALTER SESSION SET TIME_ZONE = '+00:00'",
    };
}

std::string current_scn() {
    return "SELECT TO_CHAR(CURRENT_SCN) FROM V$DATABASE";
}

std::string threads() {
    return "SELECT THREAD#, STATUS, ENABLED, TO_CHAR(ENABLE_CHANGE#), "
           "TO_CHAR(LAST_REDO_CHANGE#) FROM V$THREAD ORDER BY THREAD#";
}

std::string online_logs() {
    // One member per group (any member holds the same redo); the CURRENT log's
    // NEXT_CHANGE# is a huge sentinel, which the selection treats as open-ended.
    return "SELECT MIN(F.MEMBER), L.THREAD#, TO_CHAR(L.SEQUENCE#), TO_CHAR(L.FIRST_CHANGE#), "
           "TO_CHAR(L.NEXT_CHANGE#), L.STATUS FROM V$LOG L JOIN V$LOGFILE F ON F.GROUP# = "
           "L.GROUP# WHERE (L.STATUS = 'CURRENT' OR L.NEXT_CHANGE# > TO_NUMBER(:1)) AND "
           "L.FIRST_CHANGE# <= TO_NUMBER(:2) GROUP BY L.THREAD#, L.SEQUENCE#, L.FIRST_CHANGE#, "
           "L.NEXT_CHANGE#, L.STATUS";
}

std::string archived_logs() {
    // Deleted files (STATUS 'D') are selected too, so that a purge is reported rather than
    // waited for; only the local destination of the current incarnation counts.
    return "SELECT A.NAME, A.THREAD#, TO_CHAR(A.SEQUENCE#), TO_CHAR(A.FIRST_CHANGE#), "
           "TO_CHAR(A.NEXT_CHANGE#), A.STATUS FROM V$ARCHIVED_LOG A, V$DATABASE D WHERE "
           "A.NAME IS NOT NULL AND A.ARCHIVED = 'YES' AND A.STATUS IN ('A', 'D') AND "
           "A.NEXT_CHANGE# > TO_NUMBER(:1) AND A.FIRST_CHANGE# <= TO_NUMBER(:2) AND "
           "A.RESETLOGS_CHANGE# = D.RESETLOGS_CHANGE# AND A.RESETLOGS_TIME = D.RESETLOGS_TIME "
           "AND A.DEST_ID = (SELECT DEST_ID FROM V$ARCHIVE_DEST_STATUS WHERE STATUS = 'VALID' "
           "AND TYPE = 'LOCAL' AND ROWNUM = 1)";
}

std::string add_logfile(bool first) {
    return first ? "BEGIN DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :1, OPTIONS => "
                   "DBMS_LOGMNR.NEW); END;"
                 : "BEGIN DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :1, OPTIONS => "
                   "DBMS_LOGMNR.ADDFILE); END;";
}

std::string session_logs() {
    return "SELECT FILENAME, THREAD_ID, TO_CHAR(THREAD_SQN), TO_CHAR(LOW_SCN), TO_CHAR(NEXT_SCN) "
           "FROM V$LOGMNR_LOGS";
}

std::string start_logminer() {
    return "BEGIN DBMS_LOGMNR.START_LOGMNR(STARTSCN => TO_NUMBER(:1), ENDSCN => TO_NUMBER(:2), "
           "OPTIONS => DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + DBMS_LOGMNR.NO_ROWID_IN_STMT); "
           "END;";
}

std::string end_logminer() {
    return "BEGIN DBMS_LOGMNR.END_LOGMNR; END;";
}

std::string contents(bool with_pdb) {
    // No ORDER BY: rows come in redo order, and sorting could separate a CSF chain. START
    // rows (6) are left out: a transaction is known from its first DML on the schema.
    std::string sql =
        "SELECT TO_CHAR(SCN), RAWTOHEX(XID), OPERATION_CODE, CSF, ROLLBACK, STATUS, THREAD#, "
        "SEG_OWNER, TABLE_NAME, ROW_ID, RS_ID, TO_CHAR(SSN), "
        "TO_CHAR(TIMESTAMP, 'YYYY-MM-DD HH24:MI:SS'), SRC_CON_NAME, INFO, SQL_REDO "
        "FROM V$LOGMNR_CONTENTS WHERE SCN >= TO_NUMBER(:1) AND SCN <= TO_NUMBER(:2) AND "
        "(OPERATION_CODE IN (7, 36) OR (OPERATION_CODE IN (1, 2, 3, 5, 9, 10, 11, 34, 255) "
        "AND SEG_OWNER = :3))";
    if (with_pdb) {
        sql += " AND SRC_CON_NAME = :4";
    }
    return sql;
}

std::string database_settings() {
    return "SELECT LOG_MODE, FORCE_LOGGING, SUPPLEMENTAL_LOG_DATA_MIN, SUPPLEMENTAL_LOG_DATA_PK, "
           "CDB FROM V$DATABASE";
}

std::string table_columns() {
    // Tables only (ALL_TAB_COLUMNS lists the columns of views too).
    return "SELECT C.TABLE_NAME, C.COLUMN_NAME, C.DATA_TYPE FROM ALL_TAB_COLUMNS C JOIN "
           "ALL_TABLES T ON T.OWNER = C.OWNER AND T.TABLE_NAME = C.TABLE_NAME WHERE C.OWNER = "
           ":1 ORDER BY C.TABLE_NAME, C.COLUMN_ID";
}

std::string sentinel_merge(const std::string& schema) {
    std::string quoted = "\"";
    for (char c : schema) {
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    quoted += "\"";
    return "MERGE INTO " + quoted +
           ".REPLICATOR_SENTINEL S USING (SELECT 1 K FROM DUAL) D ON (S.KEYCOL = D.K) WHEN "
           "MATCHED THEN UPDATE SET S.LASTSCN = TO_NUMBER(:1) WHEN NOT MATCHED THEN INSERT "
           "(KEYCOL, LASTSCN) VALUES (1, TO_NUMBER(:2))";
}

std::string database_time() {
    return "SELECT TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS') FROM DUAL";
}

std::string oldest_open_transaction(size_t users) {
    if (users == 0) {
        return "SELECT TO_CHAR(MIN(START_SCN)) FROM V$TRANSACTION";
    }
    std::string list;
    for (size_t i = 1; i <= users; ++i) {
        list += (i > 1 ? ", :" : ":") + std::to_string(i);
    }
    return "SELECT TO_CHAR(MIN(T.START_SCN)) FROM V$TRANSACTION T JOIN V$SESSION S ON "
           "S.TADDR = T.ADDR WHERE S.USERNAME IN (" +
           list + ")";
}

std::string container_name() {
    return "SELECT SYS_CONTEXT('USERENV', 'CON_NAME') FROM DUAL";
}

std::string primary_keys() {
    return "SELECT C.TABLE_NAME, K.COLUMN_NAME FROM ALL_CONSTRAINTS C JOIN ALL_CONS_COLUMNS K "
           "ON K.OWNER = C.OWNER AND K.CONSTRAINT_NAME = C.CONSTRAINT_NAME WHERE C.OWNER = :1 "
           "AND C.CONSTRAINT_TYPE = 'P' ORDER BY C.TABLE_NAME, K.POSITION";
}

}  // namespace rep::oracle::sql
