// mylogical's --sourceConn: passwords however they are written, from the environment or a
// file, and errors that never repeat them.

#include "base/error.h"
#include "source/mysql/binlog_conn.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace rep::mysql {
namespace {

// Clears MYSQL_PWD for one test and restores it after.
class NoEnvPassword {
public:
    NoEnvPassword() {
        if (const char* v = std::getenv("MYSQL_PWD")) {
            saved_ = v;
        }
        unsetenv("MYSQL_PWD");
    }
    ~NoEnvPassword() {
        if (saved_) {
            setenv("MYSQL_PWD", saved_->c_str(), 1);
        } else {
            unsetenv("MYSQL_PWD");
        }
    }

private:
    std::optional<std::string> saved_;
};

TEST(MysqlUrl, UnencodedSpecialCharactersStayInThePassword) {
    NoEnvPassword clean;
    for (const char* pw : {"p@ss", "pa/ss", "pa?ss", "p:a@s/s?x"}) {
        MysqlUrl u = MysqlUrl::parse(std::string("mysql://repl:") + pw +
                                     "@db.example:3307/shop?sslmode=require");
        EXPECT_EQ(u.password, pw);
        EXPECT_EQ(u.user, "repl");
        EXPECT_EQ(u.host, "db.example");
        EXPECT_EQ(u.port, 3307u);
        EXPECT_EQ(u.database, "shop");
        EXPECT_EQ(u.params["sslmode"], "require");
        EXPECT_EQ(u.redacted().find(pw), std::string::npos);
    }
    EXPECT_EQ(MysqlUrl::parse("mysql://repl:p%40ss%2Fx@h/db").password, "p@ss/x");
}

TEST(MysqlUrl, MalformedUrlErrorsDoNotRepeatThePassword) {
    NoEnvPassword clean;
    try {
        MysqlUrl::parse("mysql://repl:hunter2secret/db");  // no @: the "port" is the password
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("port"), std::string::npos) << e.what();
    }
}

TEST(MysqlUrl, PasswordFromTheEnvironmentOrAFile) {
    NoEnvPassword clean;
    EXPECT_EQ(MysqlUrl::parse("mysql://repl@h/db").password, "");
    setenv("MYSQL_PWD", "from-env", 1);
    EXPECT_EQ(MysqlUrl::parse("mysql://repl@h/db").password, "from-env");
    // A password in the URL wins over the environment, even an empty one.
    EXPECT_EQ(MysqlUrl::parse("mysql://repl:in-url@h/db").password, "in-url");
    EXPECT_EQ(MysqlUrl::parse("mysql://repl:@h/db").password, "");

    auto path = std::filesystem::temp_directory_path() / "rep_mysql_url_test_pw";
    {
        std::ofstream f(path);
        f << "s3cret with spaces\n";
    }
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::string url = "mysql://repl@h/db?passwordFile=" + path.string();
    EXPECT_EQ(MysqlUrl::parse(url).password, "s3cret with spaces");  // over MYSQL_PWD too
    try {
        MysqlUrl::parse("mysql://repl:x@h/db?passwordFile=" + path.string());
        FAIL() << "accepted two passwords";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("passwordFile"), std::string::npos);
    }
    std::filesystem::remove(path);
    try {
        MysqlUrl::parse(url);
        FAIL() << "accepted a missing file";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
        EXPECT_EQ(e.kind(), ErrorKind::kFatal);
    }
}

}  // namespace
}  // namespace rep::mysql
