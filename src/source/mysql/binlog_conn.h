#pragma once

#include "base/duration.h"
#include "source/mysql/socket_watch.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct st_mysql;

namespace rep::mysql {

// A MySQL connection string as MOLT Replicator accepts it:
//   mysql://user:password@host:port/database?sslmode=verify-full&sslrootcert=ca.pem&sslcert=c.pem&sslkey=k.pem
// (also the Go driver's "user:password@tcp(host:port)/database" inside the URL). User and
// password are percent-decoded. sslmode: disable, prefer (default), require, verify-ca,
// verify-full.
struct MysqlUrl {
    std::string host = "127.0.0.1";
    unsigned port = 3306;
    std::string user = "root";
    std::string password;
    std::string database;
    std::map<std::string, std::string> params;
    // The Go driver's `timeout` (connecting) and `readTimeout` (an answer to a query, or any
    // event of the binlog stream, which has a heartbeat every second) parameters.
    Duration connect_timeout = std::chrono::seconds(10);
    Duration read_timeout = std::chrono::seconds(30);

    // Throws rep::Error (fatal) naming --sourceConn when malformed. Without a password in
    // the URL, the password is the content of the file named by the `passwordFile`
    // parameter, or else the MYSQL_PWD environment variable.
    static MysqlUrl parse(const std::string& text);
    // mysql://user@host:port/database, never the password.
    std::string redacted() const;

private:
    void take_password(bool in_url);
};

// A Connector/C (libmariadb) connection. Used for queries (preflight, --fetchMetadata) and for
// the binlog dump, whose packets we read raw and decode ourselves. Not thread-safe. Every wait
// is bounded: connecting by the URL's `timeout`, each answer and each stream event by its
// `readTimeout`, and any of them by a stop request (a second later). The socket gets TCP
// keepalives and a bound on unacknowledged sends, as the PostgreSQL connections do.
class MysqlConn {
public:
    explicit MysqlConn(MysqlUrl url);
    ~MysqlConn();
    MysqlConn(const MysqlConn&) = delete;
    MysqlConn& operator=(const MysqlConn&) = delete;

    // Throws rep::Error: retryable when the server cannot be reached, fatal for access denied
    // or TLS misconfiguration.
    void connect();
    void close();
    bool is_mariadb() const { return mariadb_; }
    const std::string& version() const { return version_; }

    using Row = std::vector<std::optional<std::string>>;
    std::vector<Row> query(const std::string& sql);
    std::optional<std::string> value(const std::string& sql);
    void exec(const std::string& sql);

    // Starts streaming the binary log after the transactions in `executed` (a MariaDB GTID
    // list for MariaDB, a MySQL GTID set for MySQL). MariaDB: through @slave_connect_state and
    // COM_BINLOG_DUMP; MySQL: COM_BINLOG_DUMP_GTID. Asks for a heartbeat every second so a
    // quiet source still wakes the reader. Throws rep::Error.
    void start_dump(uint32_t server_id, const std::string& executed);
    // The next event (19-byte header, body, checksum if enabled); valid until the next call.
    // Throws rep::Error: fatal for the server's replication errors (e.g. purged GTIDs), with
    // its message, retryable for a lost connection.
    std::string_view next_event();

    const MysqlUrl& url() const { return url_; }

private:
    [[noreturn]] void fail(const std::string& what);
    void connect_bounded();

    SocketWatch watch_;

    MysqlUrl url_;
    st_mysql* conn_ = nullptr;
    bool mariadb_ = false;
    std::string version_;
};

}  // namespace rep::mysql
