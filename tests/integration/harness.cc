#include "harness.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace harness {
namespace {

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::atoi(v) : fallback;
}

std::string conninfo(int port, const std::string& db) {
    return "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=" + db;
}

}  // namespace

int source_port() {
    return env_int("REP_TEST_SOURCE_PORT", 26432);
}
int target_port() {
    return env_int("REP_TEST_TARGET_PORT", 26433);
}
std::string servers_base() {
    const char* v = std::getenv("REP_TEST_BASE");
    return v != nullptr ? v : REP_TEST_BASE_DEFAULT;
}

std::string write_script(const std::string& dir, const std::string& name, const std::string& text) {
    std::filesystem::path d = std::filesystem::path(servers_base()) / dir;
    std::filesystem::create_directories(d);
    std::ofstream(d / name) << text;
    return (d / name).string();
}

::testing::AssertionResult pg_servers(const std::string& action, int port,
                                      const std::string& mode) {
    std::string cmd;
    if (action.rfind("mariadb-", 0) == 0) {
        cmd = std::string(REP_SOURCE_DIR) + "/scripts/mariadb_server.sh " + action.substr(8) + " " +
              servers_base() + "-mariadb";
    } else {
        cmd =
            std::string(REP_SOURCE_DIR) + "/scripts/pg_servers.sh " + action + " " + servers_base();
    }
    if (port != 0) {
        cmd += " " + std::to_string(port);
    }
    if (!mode.empty()) {
        cmd += " " + mode;
    }
    if (std::system(cmd.c_str()) != 0) {
        return ::testing::AssertionFailure() << cmd << " failed";
    }
    return ::testing::AssertionSuccess();
}

int kill_count(int default_kills) {
    return env_int("REP_SOAK_KILLS", default_kills);
}

void kill_nine_repeatedly(const std::vector<std::string>& args, const std::string& log, int kills,
                          uint32_t seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < kills; ++i) {
        Replicator r(args, log);
        std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng() % 900));
        ASSERT_TRUE(r.running()) << r.log();
        r.signal(SIGKILL);
        r.wait(std::chrono::seconds(10));
    }
}

std::string fresh_log(const std::string& test_name) {
    std::string path = log_path(test_name);
    ::unlink(path.c_str());
    return path;
}

std::string log_path(const std::string& test_name) {
    return servers_base() + "/" + test_name + "." + std::to_string(::getpid()) + ".log";
}

Sql::Sql(int port, const std::string& db) : conn_(PQconnectdb(conninfo(port, db).c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(conn_);
        PQfinish(conn_);
        throw std::runtime_error("connect to port " + std::to_string(port) + ": " + msg);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
}

Sql::~Sql() {
    PQfinish(conn_);
}

std::string Sql::try_exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    auto st = PQresultStatus(r);
    std::string err;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err = PQresultErrorMessage(r);
        if (err.empty()) {
            err = PQerrorMessage(conn_);
        }
    }
    PQclear(r);
    return err;
}

void Sql::exec(const std::string& sql) {
    std::string err = try_exec(sql);
    if (!err.empty()) {
        throw std::runtime_error(sql.substr(0, 200) + ": " + err);
    }
}

std::vector<std::vector<std::optional<std::string>>> Sql::rows(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        std::string err = PQresultErrorMessage(r);
        PQclear(r);
        throw std::runtime_error(sql.substr(0, 200) + ": " + err);
    }
    std::vector<std::vector<std::optional<std::string>>> out;
    for (int i = 0; i < PQntuples(r); ++i) {
        auto& row = out.emplace_back();
        for (int j = 0; j < PQnfields(r); ++j) {
            if (PQgetisnull(r, i, j)) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(std::string(PQgetvalue(r, i, j), PQgetlength(r, i, j)));
            }
        }
    }
    PQclear(r);
    return out;
}

std::optional<std::string> Sql::value(const std::string& sql) {
    auto r = rows(sql);
    if (r.empty() || r[0].empty()) {
        return std::nullopt;
    }
    return r[0][0];
}

long long Sql::count(const std::string& table) {
    return std::stoll(value("SELECT count(*) FROM " + table).value_or("0"));
}

Databases::Databases(const std::string& n, const std::string& ddl, bool create_slot)
    : name(n), slot("slot_" + n), publication("pub_" + n) {
    {
        Sql src(source_port(), "postgres");
        src.exec(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
            "slot_name = '" +
            slot + "'");
        src.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        src.exec("CREATE DATABASE " + name);
        Sql dst(target_port(), "postgres");
        dst.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        dst.exec("CREATE DATABASE " + name);
    }
    source = std::make_unique<Sql>(source_port(), name);
    target = std::make_unique<Sql>(target_port(), name);
    target->exec("ALTER ROLE postgres PASSWORD 'hunter2-secret'");
    if (!ddl.empty()) {
        source->exec(ddl);
        target->exec(ddl);
    }
    if (create_slot) {
        source->exec("CREATE PUBLICATION " + publication + " FOR ALL TABLES");
        source->exec("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    }
    source_url = "postgresql://postgres@127.0.0.1:" + std::to_string(source_port()) + "/" + name;
    target_url = "postgresql://postgres:hunter2-secret@127.0.0.1:" + std::to_string(target_port()) +
                 "/" + name + "?sslmode=disable";
}

Databases::~Databases() {
    source.reset();
    target.reset();
    try {
        Sql src(source_port(), "postgres");
        src.exec(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
            "slot_name = '" +
            slot + "' AND NOT active");
    } catch (...) {
    }
}

std::string Databases::dump(Sql& db, const std::string& table, const std::string& order_by) {
    // Rows are sorted as text too: ORDER BY 1 leaves ties (composite keys) in any order.
    std::vector<std::string> lines;
    for (const auto& row : db.rows("SELECT * FROM " + table + " ORDER BY " + order_by)) {
        std::string line;
        for (const auto& v : row) {
            line += (v ? "'" + *v + "'" : "NULL") + "|";
        }
        lines.push_back(std::move(line));
    }
    std::stable_sort(lines.begin(), lines.end());
    std::ostringstream out;
    for (const auto& l : lines) {
        out << l << '\n';
    }
    return out.str();
}

bool Databases::tables_match(const std::vector<std::string>& tables, std::string* diff) {
    for (const auto& t : tables) {
        std::string a = dump(*source, t, "1");
        std::string b = dump(*target, t, "1");
        if (a != b) {
            if (diff != nullptr) {
                *diff = "table " + t + " differs: source has " + std::to_string(source->count(t)) +
                        " rows, target " + std::to_string(target->count(t)) + "\nsource:\n" +
                        a.substr(0, 2000) + "\ntarget:\n" + b.substr(0, 2000);
            }
            return false;
        }
    }
    return true;
}

std::vector<std::string> Databases::args(const std::vector<std::string>& extra) const {
    std::vector<std::string> a = {"pglogical",
                                  "--sourceConn",
                                  source_url,
                                  "--targetConn",
                                  target_url,
                                  "--targetSchema",
                                  name + ".public",
                                  "--slotName",
                                  slot,
                                  "--publicationName",
                                  publication,
                                  "--stagingCreateSchema",
                                  "--dataDir",
                                  servers_base() + "/data-" + name,
                                  "--flushPeriod",
                                  "100ms",
                                  "--standbyTimeout",
                                  "1s"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

Replicator::Replicator(const std::vector<std::string>& args, const std::string& log_path)
    : log_path_(log_path) {
    std::vector<char*> argv;
    const char* override_bin = std::getenv("REP_TEST_BINARY");  // scripts/soak.sh
    std::string bin = override_bin != nullptr ? override_bin : REP_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
}

Replicator::~Replicator() {
    if (running()) {
        signal(SIGKILL);
        wait(std::chrono::seconds(10));
    }
    // Whatever the test checks, a broken internal rule is a failure even when the process
    // recovered from it (a statement sent while pipeline answers were outstanding did).
    std::ifstream log(log_path_);
    std::string line;
    while (std::getline(log, line)) {
        if (line.find("internal error") != std::string::npos) {
            ADD_FAILURE() << log_path_ << ": " << line;
            break;
        }
    }
}

void Replicator::signal(int sig) {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, sig);
    }
}

std::optional<int> Replicator::wait(std::chrono::milliseconds timeout) {
    if (status_) {
        return status_;
    }
    auto until = std::chrono::steady_clock::now() + timeout;
    do {
        int st = 0;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return status_;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < until);
    return std::nullopt;
}

bool Replicator::running() {
    return !wait(std::chrono::milliseconds(0)).has_value();
}

long Replicator::peak_rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

std::string Replicator::log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::pair<int, std::string> run_replicator(const std::vector<std::string>& args,
                                           std::chrono::milliseconds timeout) {
    static int n = 0;
    std::string path =
        servers_base() + "/run." + std::to_string(::getpid()) + "." + std::to_string(n++) + ".log";
    ::unlink(path.c_str());
    Replicator r(args, path);
    auto st = r.wait(timeout);
    if (!st) {
        r.signal(SIGKILL);
        r.wait(std::chrono::seconds(5));
        return {-1, r.log()};
    }
    return {*st, r.log()};
}

::testing::AssertionResult converges(Databases& db, const std::vector<std::string>& tables,
                                     std::chrono::milliseconds timeout) {
    std::string diff;
    if (wait_for([&] { return db.tables_match(tables, &diff); }, timeout)) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << diff;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

}  // namespace harness

namespace harness {

std::pair<int, std::string> http_get(int port, const std::string& path) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {0, ""};
    }
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ::send(fd, req.data(), req.size(), 0);
    std::string resp;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
        resp.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    auto sp = resp.find(' ');
    auto hdr_end = resp.find("\r\n\r\n");
    if (sp == std::string::npos || hdr_end == std::string::npos) {
        return {0, resp};
    }
    return {std::atoi(resp.c_str() + sp + 1), resp.substr(hdr_end + 4)};
}

TargetCutter::TargetCutter(const std::string& db, unsigned seed) {
    thread_ = std::thread([this, db, seed] {
        std::mt19937 rng(seed);
        Sql killer(target_port(), "postgres");
        while (!stop_.load()) {
            auto pause = std::chrono::milliseconds(100 + rng() % 500);
            for (auto waited = std::chrono::milliseconds(0); waited < pause && !stop_.load();
                 waited += std::chrono::milliseconds(20)) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            try {
                auto cut = killer.value(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                    "datname = '" +
                    db + "' AND application_name = 'replicator'");
                if (cut && *cut != "0") {
                    ++cuts_;
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << "cutting the target connections: " << e.what();
                return;
            }
        }
    });
}

TargetCutter::~TargetCutter() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

}  // namespace harness
