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

}  // namespace
}  // namespace rep
