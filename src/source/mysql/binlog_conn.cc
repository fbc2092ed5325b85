#include "source/mysql/binlog_conn.h"

#include "base/error.h"
#include "base/hex.h"
#include "source/mysql/dump_command.h"
#include "util/stop_flag.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <mysql.h>
#include <mysqld_error.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <system_error>
#include <thread>

namespace rep::mysql {
namespace {

// MariaDB and MySQL report a dump they cannot serve (purged or unknown GTIDs, a server id
// clash) with these codes; retrying cannot help.
bool fatal_dump_error(unsigned code) {
    return code == 1236 /* ER_MASTER_FATAL_ERROR_READING_BINLOG */ ||
           code == ER_ACCESS_DENIED_ERROR || code == ER_SPECIFIC_ACCESS_DENIED_ERROR ||
           code == 1045 || code == 1227;
}

// Keepalives and a bound on unacknowledged sends, as libpq gets them (util/libpq_io.cc), so a
// vanished peer is noticed by TCP too.
void set_socket_options(int fd) {
    int on = 1;
    int idle = 10;
    int interval = 5;
    int count = 3;
    unsigned user_timeout_ms = 30000;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

// The whole file is the password, less one trailing line break (as a secret mounted by an
// orchestrator, or written by `echo`). Its path may be named; its content never is.
std::string read_password_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw fatal(fmt::format("--sourceConn passwordFile {}: cannot read it ({})", path,
                                std::error_code(errno, std::generic_category()).message()));
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string password = text.str();
    if (!password.empty() && password.back() == '\n') {
        password.pop_back();
        if (!password.empty() && password.back() == '\r') {
            password.pop_back();
        }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        spdlog::warn(
            "--sourceConn passwordFile {} can be read by other users of this machine; "
            "chmod 600 it",
            path);
    }
    return password;
}

}  // namespace

MysqlUrl MysqlUrl::parse(const std::string& text) {
    auto bad = [&](const std::string& why) {
        return fatal(
            fmt::format("--sourceConn is not a MySQL URL ({}); write it as "
                        "mysql://user:password@host:port/database",
                        why));
    };
    const std::string scheme = "mysql://";
    if (text.rfind(scheme, 0) != 0) {
        throw bad("it must start with mysql://");
    }
    std::string rest = text.substr(scheme.size());
    MysqlUrl u;
    // The last @ ends the user part (as Go's URL parser and the Go MySQL driver read it), so
    // an unencoded @, / or ? in the password stays in the password; parameters start at the
    // first ? after it.
    auto last_at = rest.rfind('@');
    auto q = rest.find('?', last_at == std::string::npos ? 0 : last_at);
    if (q != std::string::npos) {
        std::string query = rest.substr(q + 1);
        rest = rest.substr(0, q);
        size_t pos = 0;
        while (pos <= query.size()) {
            auto amp = query.find('&', pos);
            std::string kv =
                query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
            auto eq = kv.find('=');
            if (!kv.empty()) {
                u.params[percent_decode(kv.substr(0, eq))] =
                    eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1));
            }
            if (amp == std::string::npos) {
                break;
            }
            pos = amp + 1;
        }
    }
    auto at = rest.rfind('@');
    std::string hostpart = rest;
    bool password_given = false;
    if (at != std::string::npos) {
        std::string userinfo = rest.substr(0, at);
        hostpart = rest.substr(at + 1);
        auto colon = userinfo.find(':');
        u.user = percent_decode(userinfo.substr(0, colon));
        if (colon != std::string::npos) {
            u.password = percent_decode(userinfo.substr(colon + 1));
            password_given = true;
        }
    }
    auto slash = hostpart.find('/');
    if (slash != std::string::npos) {
        u.database = percent_decode(hostpart.substr(slash + 1));
        hostpart = hostpart.substr(0, slash);
    }
    // Go driver form: tcp(host:port)
    if (hostpart.rfind("tcp(", 0) == 0 && hostpart.back() == ')') {
        hostpart = hostpart.substr(4, hostpart.size() - 5);
    }
    auto colon = hostpart.rfind(':');
    if (colon != std::string::npos && hostpart.find(']') == std::string::npos) {
        std::string port = hostpart.substr(colon + 1);
        if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
            // Not repeated: text taken for a port may be part of a malformed password.
            throw bad("the port is not a number");
        }
        u.port = static_cast<unsigned>(std::stoul(port));
        hostpart = hostpart.substr(0, colon);
    }
    if (!hostpart.empty()) {
        u.host = hostpart;
    }
    for (auto [name, field] :
         {std::pair{"timeout", &u.connect_timeout}, std::pair{"readTimeout", &u.read_timeout}}) {
        if (auto it = u.params.find(name); it != u.params.end()) {
            auto d = parse_go_duration(it->second);
            if (!d || d->count() <= 0) {
                throw bad(fmt::format("{} \"{}\" is not a positive duration such as 30s", name,
                                      it->second));
            }
            *field = *d;
        }
    }
    static const char* kModes[] = {"disable", "prefer",    "preferred",
                                   "require", "verify-ca", "verify-full"};
    if (auto it = u.params.find("sslmode"); it != u.params.end()) {
        bool known = false;
        for (const char* m : kModes) {
            known |= it->second == m;
        }
        if (!known) {
            throw bad("sslmode \"" + it->second +
                      "\" is not one of disable, prefer, require, verify-ca, verify-full");
        }
    }
    u.take_password(password_given);
    return u;
}

void MysqlUrl::take_password(bool in_url) {
    auto file = params.find("passwordFile");
    if (file != params.end()) {
        if (in_url) {
            throw fatal(
                "--sourceConn gives a password and a passwordFile; keep only the passwordFile");
        }
        password = read_password_file(file->second);
    } else if (!in_url) {
        // The MySQL and MariaDB clients' own variable. The process never changes its
        // environment, so reading it is safe from any thread.
        if (const char* env = std::getenv("MYSQL_PWD")) {  // NOLINT(concurrency-mt-unsafe)
            password = env;
        }
    }
}

std::string MysqlUrl::redacted() const {
    return fmt::format("mysql://{}@{}:{}/{}", user, host, port, database);
}

MysqlConn::MysqlConn(MysqlUrl url) : url_(std::move(url)) {}

MysqlConn::~MysqlConn() {
    close();
}

void MysqlConn::close() {
    watch_.detach();
    if (conn_ != nullptr) {
        mysql_close(conn_);
        conn_ = nullptr;
    }
}

void MysqlConn::fail(const std::string& what) {
    watch_.disarm();
    if (watch_.fired() == SocketWatch::Fired::kStop) {
        throw Error(ErrorKind::kRetryable,
                    fmt::format("stopping: gave up {} on source {}", what, url_.redacted()));
    }
    if (watch_.fired() == SocketWatch::Fired::kDeadline) {
        throw Error(ErrorKind::kRetryable,
                    fmt::format("{} on source {}: no answer within {} (the readTimeout URL "
                                "parameter); the connection is dropped and opened again",
                                what, url_.redacted(), format_go_duration(watch_.limit())));
    }
    unsigned code = conn_ != nullptr ? mysql_errno(conn_) : 0;
    std::string message = conn_ != nullptr ? mysql_error(conn_) : "no connection";
    // The session ended under us: an idle connection timed out (MySQL 8's
    // ER_CLIENT_INTERACTION_TIMEOUT 4031), was killed (MariaDB's ER_CONNECTION_KILLED 1927),
    // or the server is shutting down (1053). A new connection may well work.
    bool lost = code == 2006 /* CR_SERVER_GONE_ERROR */ || code == 2013 /* CR_SERVER_LOST */ ||
                code == 2002 || code == 2003 /* can't connect */ || code == 0 || code == 4031 ||
                code == 1927 || code == 1053;
    std::string text =
        fmt::format("{} on source {}: {} (MySQL error {})", what, url_.redacted(), message, code);
    throw Error(lost && !fatal_dump_error(code) ? ErrorKind::kRetryable : ErrorKind::kFatal, text);
}

void MysqlConn::connect() {
    close();
    conn_ = mysql_init(nullptr);
    auto timeout = static_cast<unsigned>(std::max<int64_t>(
        1, std::chrono::ceil<std::chrono::seconds>(url_.connect_timeout).count()));
    mysql_optionsv(conn_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    // Connecting runs in non-blocking steps (connect_bounded) so that a stop request ends it.
    mysql_optionsv(conn_, MYSQL_OPT_NONBLOCK, 0);
    mysql_optionsv(conn_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    // Row values come from the binary log, not this session; its time zone only matters to
    // the preflight and metadata queries, which should not depend on the server's default.
    mysql_optionsv(conn_, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    std::string mode = url_.params.count("sslmode") != 0 ? url_.params.at("sslmode") : "prefer";
    auto param = [&](const char* k) -> const char* {
        auto it = url_.params.find(k);
        return it == url_.params.end() ? nullptr : it->second.c_str();
    };
    if (mode != "disable") {
        if (param("sslkey") != nullptr) {
            mysql_optionsv(conn_, MYSQL_OPT_SSL_KEY, param("sslkey"));
        }
        if (param("sslcert") != nullptr) {
            mysql_optionsv(conn_, MYSQL_OPT_SSL_CERT, param("sslcert"));
        }
        if (param("sslrootcert") != nullptr) {
            mysql_optionsv(conn_, MYSQL_OPT_SSL_CA, param("sslrootcert"));
        }
        if (mode == "require" || mode == "verify-ca" || mode == "verify-full") {
            my_bool enforce = 1;
            mysql_optionsv(conn_, MYSQL_OPT_SSL_ENFORCE, &enforce);
        }
        my_bool verify = mode == "verify-full" || mode == "verify-ca" ? 1 : 0;
        mysql_optionsv(conn_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
    connect_bounded();
    set_socket_options(mysql_get_socket(conn_));
    watch_.attach(mysql_get_socket(conn_));
    version_ = mysql_get_server_info(conn_);
    auto v = value("SELECT @@version");
    if (v) {
        version_ = *v;
    }
    std::string lower;
    for (char c : version_) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    mariadb_ = lower.find("mariadb") != std::string::npos;
}

void MysqlConn::connect_bounded() {
    util::WaitDeadline deadline(
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::nanoseconds>(url_.connect_timeout));
    MYSQL* ret = nullptr;
    int status = mysql_real_connect_start(
        &ret, conn_, url_.host.c_str(), url_.user.c_str(), url_.password.c_str(),
        url_.database.empty() ? nullptr : url_.database.c_str(), url_.port, nullptr, 0);
    auto library_wait_from = std::chrono::steady_clock::now();
    while (status != 0) {
        if (deadline.passed()) {
            bool stopping = deadline.stopping();
            close();
            throw Error(
                ErrorKind::kRetryable,
                stopping ? fmt::format("stopping: gave up connecting to source {}", url_.redacted())
                         : fmt::format("cannot connect to source {}: no answer within {} "
                                       "(the timeout URL parameter)",
                                       url_.redacted(), format_go_duration(url_.connect_timeout)));
        }
        pollfd p{mysql_get_socket(conn_), 0, 0};
        if ((status & MYSQL_WAIT_READ) != 0) {
            p.events |= POLLIN;
        }
        if ((status & MYSQL_WAIT_WRITE) != 0) {
            p.events |= POLLOUT;
        }
        if ((status & MYSQL_WAIT_EXCEPT) != 0) {
            p.events |= POLLPRI;
        }
        int ready = 0;
        if (p.fd >= 0 && p.events != 0 && ::poll(&p, 1, 100) > 0) {
            ready |= (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 ? MYSQL_WAIT_READ : 0;
            ready |= (p.revents & (POLLOUT | POLLHUP | POLLERR)) != 0 ? MYSQL_WAIT_WRITE : 0;
            ready |= (p.revents & POLLPRI) != 0 ? MYSQL_WAIT_EXCEPT : 0;
        } else if (p.fd < 0 || p.events == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (ready == 0 && (status & MYSQL_WAIT_TIMEOUT) != 0 &&
            std::chrono::steady_clock::now() - library_wait_from >=
                std::chrono::milliseconds(mysql_get_timeout_value_ms(conn_))) {
            ready = MYSQL_WAIT_TIMEOUT;
        }
        if (ready != 0) {
            status = mysql_real_connect_cont(&ret, conn_, ready);
            library_wait_from = std::chrono::steady_clock::now();
        }
    }
    if (ret == nullptr) {
        unsigned code = mysql_errno(conn_);
        std::string msg = mysql_error(conn_);
        close();
        // Access denied, unknown database and TLS failures need a configuration change.
        bool access = code == 1045 || code == 1044 || code == 1049 || code == 2026;
        throw Error(access ? ErrorKind::kFatal : ErrorKind::kRetryable,
                    fmt::format("cannot connect to source {}: {} (MySQL error {})", url_.redacted(),
                                msg, code));
    }
}

std::vector<MysqlConn::Row> MysqlConn::query(const std::string& sql) {
    if (conn_ == nullptr) {
        connect();
    }
    watch_.arm(url_.read_timeout);
    if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
        fail("query \"" + sql.substr(0, 80) + "\"");
    }
    std::vector<Row> rows;
    MYSQL_RES* res = mysql_store_result(conn_);
    watch_.disarm();
    if (res == nullptr) {
        if (mysql_field_count(conn_) != 0) {
            fail("reading the result of \"" + sql.substr(0, 80) + "\"");
        }
        return rows;
    }
    unsigned n = mysql_num_fields(res);
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
        unsigned long* lengths = mysql_fetch_lengths(res);
        Row row;
        for (unsigned i = 0; i < n; ++i) {
            if (r[i] == nullptr) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(std::string(r[i], lengths[i]));
            }
        }
        rows.push_back(std::move(row));
    }
    mysql_free_result(res);
    return rows;
}

std::optional<std::string> MysqlConn::value(const std::string& sql) {
    auto rows = query(sql);
    if (rows.empty() || rows[0].empty()) {
        return std::nullopt;
    }
    return rows[0][0];
}

void MysqlConn::exec(const std::string& sql) {
    query(sql);
}

void MysqlConn::start_dump(uint32_t server_id, const std::string& executed) {
    if (conn_ == nullptr) {
        connect();
    }
    // Checksums as the server writes them (our decoder verifies CRC32), and a heartbeat
    // every second (nanoseconds) so the stream never goes silent.
    exec("SET @master_binlog_checksum = @@global.binlog_checksum");
    exec("SET @source_binlog_checksum = @@global.binlog_checksum");
    exec("SET @master_heartbeat_period = 1000000000");
    std::string payload;
    enum_server_command command;
    if (mariadb_) {
        exec("SET @mariadb_slave_capability = 4");
        std::string escaped;
        for (char c : executed) {
            if (c == '\'' || c == '\\') {
                escaped += '\\';
            }
            escaped += c;
        }
        exec("SET @slave_connect_state = '" + escaped + "'");
        exec("SET @slave_gtid_strict_mode = 1");
        exec("SET @slave_gtid_ignore_duplicates = 0");
        // COM_BINLOG_DUMP: int<4> position, int<2> flags, int<4> server id, file name (empty:
        // the server starts from @slave_connect_state).
        payload.resize(10, '\0');
        uint32_t pos = 4;
        for (int i = 0; i < 4; ++i) {
            payload[static_cast<size_t>(i)] = static_cast<char>((pos >> (8 * i)) & 0xff);
            payload[6 + static_cast<size_t>(i)] = static_cast<char>((server_id >> (8 * i)) & 0xff);
        }
        command = COM_BINLOG_DUMP;
    } else {
        auto set = MysqlGtidSet::parse(executed);
        if (!set) {
            throw fatal("\"" + executed + "\" is not a MySQL GTID set");
        }
        payload = com_binlog_dump_gtid_payload(server_id, *set);
        command = static_cast<enum_server_command>(0x1e);  // COM_BINLOG_DUMP_GTID
    }
    watch_.arm(url_.read_timeout);
    if (conn_->methods->db_command(conn_, command, payload.data(), payload.size(), 1, nullptr) !=
        0) {
        fail("starting the binlog dump");
    }
}

std::string_view MysqlConn::next_event() {
    // Armed only while waiting for the server (a heartbeat comes every second), not while the
    // reader waits for room in the queue behind a slow or unreachable target: that wait is
    // the target's, and must not cost the source connection.
    watch_.arm(url_.read_timeout);
    unsigned long len = mysql_net_read_packet(conn_);
    watch_.disarm();
    if (len == packet_error || len == 0) {
        fail("reading the binlog stream");
    }
    const unsigned char* p = conn_->net.read_pos;
    if (p[0] == 0xff) {
        // The error packet: int<2> code, '#', 5-char SQLSTATE, message.
        unsigned code = p[1] | (p[2] << 8);
        size_t skip = (len > 3 && p[3] == '#') ? 9 : 3;
        std::string msg(reinterpret_cast<const char*>(p + skip), len > skip ? len - skip : 0);
        std::string text = fmt::format(
            "the source refused to stream its binary log: {} (MySQL "
            "error {})",
            msg, code);
        if (code == 1236) {
            text +=
                ". The GTID position is not in the source's binary logs (purged, or from "
                "another server): take a new snapshot and start again with a fresh "
                "--defaultGTIDSet after deleting the memo row";
        }
        throw Error(fatal_dump_error(code) ? ErrorKind::kFatal : ErrorKind::kRetryable, text);
    }
    if (p[0] == 0xfe && len < 9) {
        throw Error(ErrorKind::kRetryable, "the source ended the binlog stream");
    }
    return std::string_view(reinterpret_cast<const char*>(p + 1), len - 1);
}

}  // namespace rep::mysql
