#pragma once

#include "core/progress.h"
#include "source/change_sink.h"
#include "source/mysql/binlog_conn.h"
#include "source/mysql/binlog_event.h"
#include "source/mysql/charsets.h"
#include "source/mysql/gtid_set.h"

#include "metrics/probe.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace rep::mysql {

struct BinlogReaderOptions {
    MysqlUrl url;
    uint32_t server_id = 10;  // --replicationProcessID
    bool fetch_metadata = false;
    ValueOptions values;
};

// The source side of `replicator mylogical`: streams the binary log after a GTID position and
// hands the transactions to the sink in commit order.
//
// A transaction starts at its GTID event (MySQL GTID or MariaDB GTID) and ends at XID, at a
// QUERY "COMMIT" (non-transactional engines), or right after its only QUERY when it is DDL.
// Its commit position is the executed GTID set including it (the memo checkpoint text); its
// ordinal just counts the transactions read in this process (gtid_codec.h). DDL invalidates
// cached table layouts (the next TABLE_MAP, and --fetchMetadata, describe the new one);
// TRUNCATE becomes a truncate. Row events outside the connection's database, and of system
// schemas, are skipped.
class BinlogReader {
public:
    BinlogReader(BinlogReaderOptions options, source::ChangeSink& sink, Progress& progress,
                 metrics::Probe& probe);
    ~BinlogReader();

    // Streams after `executed` (MariaDB GTID list or MySQL GTID set text; empty: from the
    // oldest binary log) until `stop`. Throws rep::Error.
    void run(const std::string& executed, const std::atomic<bool>& stop);

private:
    void handle(const DecodedEvent& e);
    void begin(int64_t commit_time_us, const std::string& gtid);
    void commit();
    void on_rows(const RowsEvent& rows);
    void on_ddl(const Query& q);
    std::shared_ptr<const Relation> relation(const std::shared_ptr<const TableMap>& map);
    bool wanted(const std::string& database) const;
    // Whether a statement may change rows of a replicated database.
    bool may_touch_wanted(const Query& q) const;
    static bool fetch_metadata(void* ctx, TableMap& map);
    MysqlConn& metadata_conn();  // opened on first use

    BinlogReaderOptions options_;
    source::ChangeSink& sink_;
    Progress& progress_;
    metrics::Probe& probe_;
    std::unique_ptr<MysqlConn> conn_;
    std::unique_ptr<MysqlConn> metadata_conn_;  // --fetchMetadata, character set tables
    Charsets charsets_;                         // loaded on connecting
    BinlogDecoder decoder_;
    bool mariadb_ = false;
    MysqlGtidSet mysql_executed_;
    MariadbGtidList mariadb_executed_;

    // The open transaction.
    bool in_txn_ = false;
    bool saw_begin_ = false;  // a QUERY "BEGIN" followed the GTID event
    std::optional<MysqlGtid> mysql_gtid_;
    std::optional<MariadbGtid> mariadb_gtid_;
    int64_t commit_time_us_ = 0;
    size_t txn_changes_ = 0;
    uint64_t sequence_ = 0;  // transactions read in this process: the commit's ordinal

    // Table id -> relation built from its TABLE_MAP. Checked against the map's names on every
    // use: table ids are reused after DDL, and maps are re-sent in every transaction.
    std::unordered_map<uint64_t, std::shared_ptr<const Relation>> relations_;
    std::map<std::string, TableMap> metadata_cache_;  // "db.table" -> from information_schema
};

}  // namespace rep::mysql
