#include "source/mysql/binlog_reader.h"

#include "base/error.h"
#include "source/mysql/charset_loader.h"
#include "source/mysql/column_traits.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace rep::mysql {
namespace {

std::string upper_trim(std::string_view sql, size_t max = 64) {
    size_t i = 0;
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])) != 0) {
        ++i;
    }
    std::string out;
    for (; i < sql.size() && out.size() < max; ++i) {
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
    }
    return out;
}

// The first `words` words of a statement, upper-cased, after whitespace and comments ("/* */",
// "-- ", "#"): what it is, without the values it carries.
std::string statement_head(std::string_view sql, size_t words) {
    size_t i = 0;
    for (;;) {
        while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])) != 0) {
            ++i;
        }
        if (sql.substr(i, 2) == "/*") {
            size_t end = sql.find("*/", i + 2);
            i = end == std::string_view::npos ? sql.size() : end + 2;
        } else if (sql.substr(i, 2) == "--" || sql.substr(i, 1) == "#") {
            size_t end = sql.find('\n', i);
            i = end == std::string_view::npos ? sql.size() : end + 1;
        } else {
            break;
        }
    }
    std::string out;
    size_t n = 0;
    while (i < sql.size() && n < words && out.size() < 100) {
        size_t start = i;
        while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])) == 0 &&
               sql[i] != '(') {
            ++i;
        }
        if (i == start) {
            break;
        }
        if (n++ > 0) {
            out += ' ';
        }
        out += upper_trim(sql.substr(start, i - start), 64);
        while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])) != 0) {
            ++i;
        }
    }
    return out;
}

// Whether a QUERY event carries row changes as SQL (binlog_format STATEMENT, or MIXED for a
// statement the server deemed safe): replaying it is not possible here, and skipping it
// would lose its rows. SELECTs never reach the binary log, so WITH starts a DML statement.
bool is_row_change_statement(std::string_view sql) {
    std::string verb = statement_head(sql, 1);
    for (const char* dml : {"INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD", "CALL", "WITH"}) {
        if (verb == dml) {
            return true;
        }
    }
    return false;
}

// Table name of "TRUNCATE [TABLE] [db.]name", unquoted; empty if `sql` is not a TRUNCATE.
std::pair<std::string, std::string> truncated_table(const std::string& sql) {
    std::string u = upper_trim(sql, sql.size());
    if (u.rfind("TRUNCATE", 0) != 0) {
        return {};
    }
    size_t pos = 8;
    auto skip_ws = [&] {
        while (pos < sql.size() && std::isspace(static_cast<unsigned char>(u[pos])) != 0) {
            ++pos;
        }
    };
    skip_ws();
    if (u.compare(pos, 5, "TABLE") == 0) {
        pos += 5;
        skip_ws();
    }
    std::vector<std::string> parts(1);
    while (pos < sql.size()) {
        char c = sql[pos];
        if (c == '`') {
            auto end = sql.find('`', pos + 1);
            parts.back() += sql.substr(pos + 1, end - pos - 1);
            pos = end == std::string::npos ? sql.size() : end + 1;
        } else if (c == '.') {
            parts.emplace_back();
            ++pos;
        } else if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ';') {
            break;
        } else {
            parts.back() += c;
            ++pos;
        }
    }
    if (parts.size() == 2) {
        return {parts[0], parts[1]};
    }
    return {"", parts[0]};
}

}  // namespace

BinlogReader::BinlogReader(BinlogReaderOptions options, source::ChangeSink& sink,
                           Progress& progress, metrics::Probe& probe)
    : options_(std::move(options)),
      sink_(sink),
      progress_(progress),
      probe_(probe),
      decoder_(options_.values) {
    if (options_.fetch_metadata) {
        decoder_.set_metadata_provider(&BinlogReader::fetch_metadata, this);
    }
    decoder_.set_table_filter(
        [](void* self, const TableMap& map) {
            return static_cast<BinlogReader*>(self)->wanted(map.database);
        },
        this);
    decoder_.set_charsets(&charsets_);
    charsets_.set_loader([this](const std::string& charset, int maxlen) {
        return load_char_table(metadata_conn(), charset, maxlen);
    });
}

MysqlConn& BinlogReader::metadata_conn() {
    if (!metadata_conn_) {
        metadata_conn_ = std::make_unique<MysqlConn>(options_.url);
    }
    return *metadata_conn_;
}

BinlogReader::~BinlogReader() = default;

bool BinlogReader::may_touch_wanted(const Query& q) const {
    if (wanted(q.database) || options_.url.database.empty()) {
        return wanted(q.database);  // with no database in the URL, all but system schemas
    }
    // A statement run from another default database can still name ours: db.table.
    std::string sql = upper_trim(q.sql, q.sql.size());
    std::string db = upper_trim(options_.url.database);
    return sql.find(db + ".") != std::string::npos || sql.find(db + "`.") != std::string::npos;
}

bool BinlogReader::wanted(const std::string& database) const {
    static const char* kSystem[] = {"mysql", "information_schema", "performance_schema", "sys"};
    for (const char* s : kSystem) {
        if (database == s) {
            return false;
        }
    }
    return options_.url.database.empty() || database == options_.url.database;
}

void BinlogReader::run(const std::string& executed, const std::atomic<bool>& stop) {
    sequence_ = progress_.ordinal().value();
    conn_ = std::make_unique<MysqlConn>(options_.url);
    try {
        conn_->connect();
        mariadb_ = conn_->is_mariadb();
        if (mariadb_) {
            auto list = MariadbGtidList::parse(executed);
            if (!list) {
                throw fatal("\"" + executed +
                            "\" is not a MariaDB GTID position (domain-server-seq,...)");
            }
            mariadb_executed_ = *list;
        } else {
            auto set = MysqlGtidSet::parse(executed);
            if (!set) {
                throw fatal("\"" + executed + "\" is not a MySQL GTID set (uuid:1-5,...)");
            }
            mysql_executed_ = *set;
        }
        // Which character set each collation id is, for converting text (charsets.h).
        load_collations(*conn_, charsets_);
        conn_->start_dump(options_.server_id, executed);
    } catch (const Error&) {
        probe_.dial(false);
        throw;
    }
    metrics::ConnectedStream connected(probe_);
    spdlog::info("replicating from {} ({}) after GTID {}", options_.url.redacted(),
                 conn_->version(), executed.empty() ? "(none: the oldest binary log)" : executed);
    decoder_.reset_tables();
    relations_.clear();
    while (!stop.load()) {
        std::string_view raw = conn_->next_event();
        DecodedEvent e = decoder_.decode(raw);
        handle(e);
    }
}

void BinlogReader::begin(int64_t commit_time_us, const std::string& gtid) {
    in_txn_ = true;
    saw_begin_ = false;
    txn_changes_ = 0;
    commit_time_us_ = commit_time_us;
    // The GTID names the transaction in error messages.
    sink_.begin(0, Position{Ordinal(sequence_ + 1), gtid}, commit_time_us);
}

void BinlogReader::commit() {
    if (!in_txn_) {
        return;
    }
    if (mysql_gtid_) {
        mysql_executed_.add(mysql_gtid_->uuid, mysql_gtid_->gno);
    }
    if (mariadb_gtid_) {
        mariadb_executed_.add(mariadb_gtid_->gtid);
    }
    Position end{Ordinal(++sequence_), mariadb_ ? mariadb_executed_.str() : mysql_executed_.str()};
    probe_.received_commit(commit_time_us_, end.ordinal);
    if (txn_changes_ == 0) {
        probe_.empty_transaction();
    }
    sink_.commit(std::move(end), commit_time_us_);
    in_txn_ = false;
    mysql_gtid_.reset();
    mariadb_gtid_.reset();
}

void BinlogReader::handle(const DecodedEvent& e) {
    int64_t header_time_us = static_cast<int64_t>(e.header.timestamp) * 1000000;
    if (const auto* g = std::get_if<MysqlGtid>(&e.event)) {
        if (g->gno == 0) {
            throw fatal(
                fmt::format("the source wrote an anonymous transaction at log position {}: "
                            "mylogical needs gtid_mode=ON on the source",
                            e.header.log_pos));
        }
        commit();  // a previous transaction without an end marker
        mysql_gtid_ = *g;
        begin(g->original_commit_time_us > 0 ? g->original_commit_time_us : header_time_us,
              MysqlGtidSet::uuid_str(g->uuid) + ":" + std::to_string(g->gno));
    } else if (const auto* m = std::get_if<MariadbGtid>(&e.event)) {
        commit();
        mariadb_gtid_ = *m;
        begin(header_time_us, fmt::format("{}-{}-{}", m->gtid.domain, m->gtid.server, m->gtid.seq));
    } else if (const auto* q = std::get_if<Query>(&e.event)) {
        std::string head = upper_trim(q->sql);
        if (head == "BEGIN") {
            saw_begin_ = true;
        } else if (head.rfind("COMMIT", 0) == 0) {
            commit();
        } else if (head.rfind("SAVEPOINT", 0) == 0 || head.rfind("ROLLBACK TO", 0) == 0) {
            // Savepoints inside a transaction: the binlog holds only what was kept.
        } else if (is_row_change_statement(q->sql) && may_touch_wanted(*q)) {
            std::string gtid =
                mariadb_gtid_ ? fmt::format("{}-{}-{}", mariadb_gtid_->gtid.domain,
                                            mariadb_gtid_->gtid.server, mariadb_gtid_->gtid.seq)
                : mysql_gtid_ ? MysqlGtidSet::uuid_str(mysql_gtid_->uuid) + ":" +
                                    std::to_string(mysql_gtid_->gno)
                              : std::string("(none)");
            throw fatal(fmt::format(
                "the source logged row changes as an SQL statement, not as row events: \"{} "
                "...\" in database {}, transaction {} at binary log position {}. A session on "
                "the source writes with binlog_format STATEMENT or MIXED, and mylogical can only "
                "apply row events; the checkpoint stays before this transaction. Set "
                "binlog_format=ROW globally and in the server's configuration and make the "
                "writers reconnect; then re-load the tables this transaction changed on the "
                "target and start from a GTID position after it (delete the memo row, pass "
                "--defaultGTIDSet)",
                statement_head(q->sql, 3), q->database.empty() ? "(none)" : q->database, gtid,
                e.header.log_pos));
        } else {
            on_ddl(*q);
            if (!saw_begin_) {
                commit();  // DDL is its own transaction
            }
        }
    } else if (const auto* tm = std::get_if<TableMapEvent>(&e.event)) {
        if (wanted(tm->map->database)) {
            charsets_.prepare(*tm->map);  // before its rows are decoded, in the next events
        }
    } else if (const auto* rows = std::get_if<RowsEvent>(&e.event)) {
        on_rows(*rows);
    } else if (std::holds_alternative<Xid>(e.event)) {
        commit();
    } else if (const auto* other = std::get_if<OtherEvent>(&e.event)) {
        // Compressed or partial row formats hold row changes we cannot decode; skipping them
        // would silently lose data.
        uint8_t t = other->type;
        if (t == kTransactionPayloadEvent || t == kPartialUpdateRowsEvent ||
            (t >= 165 && t <= 171)) {
            throw fatal(fmt::format(
                "binlog event type {} at log position {} carries row changes in a format this "
                "replicator does not decode (compressed transactions or partial JSON updates); "
                "turn off binlog_transaction_compression / log_bin_compress and set "
                "binlog_row_value_options='' on the source",
                t, e.header.log_pos));
        }
    } else if (const auto* fd = std::get_if<FormatDescription>(&e.event)) {
        spdlog::debug("binlog format {} from server {}{}", fd->binlog_version, fd->server_version,
                      fd->checksum_crc32 ? " with CRC32 checksums" : "");
    }
    // TABLE_MAP is kept by the decoder; ROTATE, heartbeats, GTID lists and the rest carry
    // nothing to apply.
}

void BinlogReader::on_ddl(const Query& q) {
    // Any DDL may change a table's layout: forget cached layouts and metadata.
    decoder_.reset_tables();
    relations_.clear();
    metadata_cache_.clear();
    auto [db, table] = truncated_table(q.sql);
    std::string database = db.empty() ? q.database : db;
    if (!table.empty() && wanted(database)) {
        auto rel = std::make_shared<Relation>();
        rel->schema = database;
        rel->name = table;
        Truncate t;
        t.relations.push_back(std::move(rel));
        sink_.truncate(std::move(t));
        ++txn_changes_;
        return;
    }
    spdlog::info("source DDL in {}: {}", q.database.empty() ? "(no database)" : q.database,
                 q.sql.substr(0, 200));
}

std::shared_ptr<const Relation> BinlogReader::relation(const std::shared_ptr<const TableMap>& map) {
    auto it = relations_.find(map->table_id);
    if (it != relations_.end() && it->second->schema == map->database &&
        it->second->name == map->table && it->second->columns.size() == map->columns.size()) {
        bool same = true;
        for (size_t i = 0; i < map->columns.size() && same; ++i) {
            same = it->second->columns[i].name == map->columns[i].name &&
                   it->second->columns[i].is_key == map->columns[i].is_key;
        }
        if (same) {
            return it->second;
        }
    }
    if (!map->has_names) {
        throw fatal(fmt::format(
            "table {}.{}: the source's binary log does not carry column names; set "
            "binlog_row_metadata=FULL on the source (MySQL 8.0.1+, MariaDB 10.5+) or pass "
            "--fetchMetadata",
            map->database, map->table));
    }
    auto rel = std::make_shared<Relation>();
    rel->schema = map->database;
    rel->name = map->table;
    for (const auto& c : map->columns) {
        SourceColumn sc;
        sc.name = c.name;
        sc.type_oid = c.type;
        sc.is_key = c.is_key;
        rel->columns.push_back(std::move(sc));
    }
    relations_[map->table_id] = rel;
    return rel;
}

void BinlogReader::on_rows(const RowsEvent& rows) {
    if (!wanted(rows.map->database)) {
        return;
    }
    if (!in_txn_) {
        begin(0, "");  // rows without a GTID event (should not happen in GTID mode)
    }
    auto rel = relation(rows.map);
    size_t n = rows.op == 'D' ? rows.before.size() : rows.after.size();
    for (size_t i = 0; i < n; ++i) {
        probe_.mutation(rows.op);
        Mutation m;
        m.relation = rel;
        if (rows.op == 'D') {
            m.kind = MutationKind::kDelete;
            m.values = rows.before[i];
        } else {
            m.kind = MutationKind::kUpsert;
            m.values = rows.after[i];
            if (rows.op == 'U') {
                m.old_values = rows.before[i];  // a changed primary key deletes the old row
            }
            // A WRITE_ROWS row is a new row: a REPLACE or INSERT ... ON DUPLICATE KEY UPDATE
            // that changed a row logs an UPDATE_ROWS (or a DELETE_ROWS before it).
            m.inserted = rows.op == 'I';
        }
        sink_.change(std::move(m));
        ++txn_changes_;
    }
}

// --fetchMetadata: column names, keys, signedness, collations and ENUM/SET labels from
// information_schema, for servers that do not log them (binlog_row_metadata=MINIMAL).
bool BinlogReader::fetch_metadata(void* ctx, TableMap& map) {
    auto* self = static_cast<BinlogReader*>(ctx);
    std::string key = map.database + "." + map.table;
    auto cached = self->metadata_cache_.find(key);
    if (cached == self->metadata_cache_.end()) {
        auto quote = [](const std::string& s) {
            std::string out = "'";
            for (char c : s) {
                if (c == '\'' || c == '\\') {
                    out += '\\';
                }
                out += c;
            }
            return out + "'";
        };
        auto rows = self->metadata_conn().query(
            "SELECT c.COLUMN_NAME, c.COLUMN_KEY, c.COLUMN_TYPE, c.COLLATION_NAME FROM "
            "information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = " +
            quote(map.database) + " AND c.TABLE_NAME = " + quote(map.table) +
            " ORDER BY c.ORDINAL_POSITION");
        TableMap meta;
        for (const auto& r : rows) {
            TableColumn c;
            c.name = r[0].value_or("");
            c.is_key = r[1].value_or("") == "PRI";
            std::string type = r[2].value_or("");
            c.is_unsigned = type.find("unsigned") != std::string::npos;
            // By name: MariaDB 10.10+ lists its utf8mb4_uca1400_* collations without an id in
            // information_schema.COLLATIONS (load_collations reads them where they have one).
            c.collation = kBinaryCollation;  // no collation: not text
            if (r[3]) {
                auto id = self->charsets_.id_of(*r[3]);
                if (!id) {
                    throw fatal(
                        fmt::format("table {} column {}: collation {} is not one the "
                                    "source server lists in information_schema",
                                    key, c.name, *r[3]));
                }
                c.collation = *id;
            }
            if (type.rfind("enum(", 0) == 0 || type.rfind("set(", 0) == 0) {
                std::vector<std::string> labels;
                std::string cur;
                bool in = false;
                for (size_t i = type.find('(') + 1; i < type.size(); ++i) {
                    char ch = type[i];
                    if (in && ch == '\'' && i + 1 < type.size() && type[i + 1] == '\'') {
                        cur += '\'';
                        ++i;
                    } else if (ch == '\'') {
                        if (in) {
                            labels.push_back(cur);
                            cur.clear();
                        }
                        in = !in;
                    } else if (in) {
                        cur += ch;
                    }
                }
                (type[0] == 'e' ? c.enum_values : c.set_values) = std::move(labels);
            }
            meta.columns.push_back(std::move(c));
        }
        cached = self->metadata_cache_.emplace(key, std::move(meta)).first;
    }
    const TableMap& meta = cached->second;
    if (meta.columns.size() != map.columns.size()) {
        throw fatal(
            fmt::format("table {}: information_schema lists {} columns but the binary log "
                        "has {}; the table changed since this event was written",
                        key, meta.columns.size(), map.columns.size()));
    }
    for (size_t i = 0; i < map.columns.size(); ++i) {
        auto& c = map.columns[i];
        const auto& m = meta.columns[i];
        c.name = m.name;
        c.is_key = m.is_key;
        c.is_unsigned = m.is_unsigned;
        if (c.collation == 0) {
            c.collation = m.collation;
        }
        if (c.enum_values.empty() && c.set_values.empty()) {
            c.enum_values = m.enum_values;
            c.set_values = m.set_values;
            c.labels_utf8 = true;  // information_schema's text, in the session's utf8mb4
        }
    }
    map.has_names = true;
    return true;
}

}  // namespace rep::mysql
