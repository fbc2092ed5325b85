#include "mysql_harness.h"

#include <cstdlib>
#include <mysql.h>
#include <stdexcept>

namespace harness {

int mariadb_port() {
    const char* v = std::getenv("REP_TEST_MARIADB_PORT");
    return v != nullptr ? std::atoi(v) : REP_TEST_MARIADB_PORT_DEFAULT;
}

MySql::MySql(const std::string& database) : conn_(mysql_init(nullptr)) {
    if (mysql_real_connect(
            conn_, "127.0.0.1", "root", "", database.empty() ? nullptr : database.c_str(),
            static_cast<unsigned>(mariadb_port()), nullptr, CLIENT_MULTI_STATEMENTS) == nullptr) {
        std::string msg = mysql_error(conn_);
        mysql_close(conn_);
        throw std::runtime_error("connect to MariaDB: " + msg);
    }
    mysql_set_character_set(conn_, "utf8mb4");
}

MySql::~MySql() {
    mysql_close(conn_);
}

void MySql::exec(const std::string& sql) {
    if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
        throw std::runtime_error(sql.substr(0, 200) + ": " + mysql_error(conn_));
    }
    do {
        if (MYSQL_RES* res = mysql_store_result(conn_)) {
            mysql_free_result(res);
        }
    } while (mysql_next_result(conn_) == 0);
    if (mysql_errno(conn_) != 0) {
        throw std::runtime_error(sql.substr(0, 200) + ": " + mysql_error(conn_));
    }
}

std::vector<std::vector<std::optional<std::string>>> MySql::rows(const std::string& sql) {
    if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
        throw std::runtime_error(sql.substr(0, 200) + ": " + mysql_error(conn_));
    }
    std::vector<std::vector<std::optional<std::string>>> out;
    MYSQL_RES* res = mysql_store_result(conn_);
    if (res == nullptr) {
        return out;
    }
    unsigned n = mysql_num_fields(res);
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
        unsigned long* len = mysql_fetch_lengths(res);
        auto& row = out.emplace_back();
        for (unsigned i = 0; i < n; ++i) {
            row.emplace_back(r[i] == nullptr
                                 ? std::nullopt
                                 : std::optional<std::string>(std::string(r[i], len[i])));
        }
    }
    mysql_free_result(res);
    while (mysql_next_result(conn_) == 0) {
    }
    return out;
}

std::optional<std::string> MySql::value(const std::string& sql) {
    auto r = rows(sql);
    if (r.empty() || r[0].empty()) {
        return std::nullopt;
    }
    return r[0][0];
}

}  // namespace harness
