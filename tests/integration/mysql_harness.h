#pragma once

// Helpers for tests against the real MariaDB server that scripts/mariadb_server.sh starts
// (ctest fixture `mariadb`).

#include <optional>
#include <string>
#include <vector>

struct st_mysql;

namespace harness {

int mariadb_port();

// A plain client connection (root, no password); failures throw std::runtime_error.
class MySql {
public:
    explicit MySql(const std::string& database = "");
    ~MySql();
    MySql(const MySql&) = delete;
    MySql& operator=(const MySql&) = delete;

    void exec(const std::string& sql);  // may hold several statements separated by ';'
    std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql);
    std::optional<std::string> value(const std::string& sql);

private:
    st_mysql* conn_;
};

}  // namespace harness
