// Connection strings are checked before anything connects: a misspelt scheme would make
// libpq read the whole URL, password included, as a database name on the default server.

#include "base/conninfo.h"

#include <gtest/gtest.h>

namespace rep {
namespace {

TEST(Conninfo, PostgresUrlsAndKeyValueStringsAreAccepted) {
    EXPECT_EQ(conninfo_problem("postgresql://u:p@h:5432/db?sslmode=verify-full"), "");
    EXPECT_EQ(conninfo_problem("postgres://u@h/db"), "");
    EXPECT_EQ(conninfo_problem("host=h port=5432 dbname=db user=u password=p"), "");
}

TEST(Conninfo, OtherSchemesAreRefusedWithoutRepeatingTheSecret) {
    std::string problem = conninfo_problem("postgresq://user:hunter2@host/db");
    EXPECT_NE(problem.find(R"(scheme "postgresq")"), std::string::npos) << problem;
    EXPECT_EQ(problem.find("hunter2"), std::string::npos) << problem;
    // libpq knows its schemes in lower case only.
    EXPECT_NE(conninfo_problem("PostgreSQL://u@h/db"), "");
    problem = conninfo_problem("mysql://repl:hunter2@host:3306/db");
    EXPECT_NE(problem.find(R"(scheme "mysql")"), std::string::npos) << problem;
    // A "scheme" that could itself hold a secret is not repeated either.
    problem = conninfo_problem("user=x password=hunter2 x://y");
    EXPECT_FALSE(problem.empty());
    EXPECT_EQ(problem.find("hunter2"), std::string::npos) << problem;
}

TEST(Conninfo, UnparseableStringsAreRefused) {
    EXPECT_NE(conninfo_problem("just-a-database-name"), "");
    EXPECT_NE(conninfo_problem("host=h password='unterminated"), "");
    std::string problem = conninfo_problem("host=h password='hunter2");
    EXPECT_EQ(problem.find("hunter2"), std::string::npos) << problem;
}

// A user name or password with an unencoded @ / ? or # makes libpq read part of it as a
// host or a database name: the connection would go elsewhere and print that part.
TEST(Conninfo, AmbiguousUserPartsAreRefusedWithoutRepeatingThem) {
    for (const char* url :
         {"postgresql://u:s3cr@tWord@host/db", "postgresql://u:s3cr/tWord@host/db",
          "postgresql://u:s3cr?tWord@host/db", "postgresql://u:s3cr#tWord@host/db",
          "postgres://user@server:s3crtWord@host:5432/db"}) {
        std::string problem = conninfo_problem(url);
        EXPECT_NE(problem.find("percent-encoded"), std::string::npos) << url;
        EXPECT_EQ(problem.find("tWord"), std::string::npos) << problem;
        EXPECT_EQ(redact_conninfo(url), "<invalid connection string>") << url;
    }
    // Encoded, or with an @ only inside a parameter, they are fine.
    EXPECT_EQ(conninfo_problem("postgresql://u:s3cr%40t%2FWord@host/db"), "");
    EXPECT_EQ(conninfo_problem("postgresql://u:s3cr:tWord@h1:5432,h2:5433/db"), "");
    EXPECT_EQ(conninfo_problem("postgresql://host/db?user=a@b&sslmode=require"), "");
    EXPECT_EQ(redact_conninfo("postgresql://u:s3cr%40tWord@host/db"), "postgresql://u@host/db");
}

TEST(Conninfo, UsersAndHostsAreHiddenAsWholeNames) {
    auto ids = conninfo_identities("postgresql://postgres:pw@db1.example,10.0.0.7:5433/app");
    std::string text = hide_identities(
        "target postgresql://postgres@db1.example:5432/app: connection to server at "
        "\"10.0.0.7\", port 5433 failed: role \"postgres\" does not exist. Seen db1.example.",
        ids);
    EXPECT_EQ(text,
              "target postgresql://<hidden>@<hidden>:5432/app: connection to server at "
              "\"<hidden>\", port 5433 failed: role \"<hidden>\" does not exist. Seen <hidden>.");
    EXPECT_EQ(hide_identities("10.0.0.70 db1.example.org", ids), "10.0.0.70 db1.example.org");
    auto my = conninfo_identities("mysql://repl:p@ss@tcp(mysql.internal:3306)/shop");
    EXPECT_EQ(hide_identities("mysql://repl@mysql.internal:3306/shop", my),
              "mysql://<hidden>@<hidden>:3306/shop");
}

}  // namespace
}  // namespace rep
