// The Oracle source's OCI layer: the SQL text it sends (golden file), oracle:// URLs, loading
// the client library, and the errors of a session, against the stand-in client library and
// the simulator server (tests/oracle_sim).

#include "base/error.h"
#include "source/oracle/logminer_sql.h"
#include "source/oracle/oci_api.h"
#include "source/oracle/oracle_url.h"

#include "oracle_world.h"
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rep::oracle {
namespace {

std::string all_statements() {
    std::string out;
    auto add = [&](const std::string& name, const std::string& sql) {
        out += "-- " + name + "\n" + sql + "\n\n";
    };
    for (const std::string& s : sql::session_setup()) {
        add("session setup", s);
    }
    add("current SCN", sql::current_scn());
    add("threads", sql::threads());
    add("online logs", sql::online_logs());
    add("archived logs", sql::archived_logs());
    add("add the first log file", sql::add_logfile(true));
    add("add another log file", sql::add_logfile(false));
    add("the session's log files", sql::session_logs());
    add("start LogMiner", sql::start_logminer());
    add("end LogMiner", sql::end_logminer());
    add("contents", sql::contents(false));
    add("contents of one PDB", sql::contents(true));
    add("database settings", sql::database_settings());
    add("table columns", sql::table_columns());
    add("primary keys", sql::primary_keys());
    add("container name", sql::container_name());
    add("database time", sql::database_time());
    add("oldest open transaction", sql::oldest_open_transaction(0));
    add("oldest open transaction of two users", sql::oldest_open_transaction(2));
    add("sentinel heartbeat", sql::sentinel_merge("APP"));
    return out;
}

// The statements are part of the contract with Oracle: a change must be deliberate (run the
// test with REP_UPDATE_GOLDEN=1 to rewrite the file, and review the diff).
TEST(OracleSql, StatementsMatchTheGoldenFile) {
    std::string path = std::string(REP_TESTDATA_DIR) + "/oracle_logminer_sql.txt";
    std::string now = all_statements();
    if (std::getenv("REP_UPDATE_GOLDEN") != nullptr) {
        std::ofstream(path) << now;
    }
    std::ifstream in(path);
    std::stringstream golden;
    golden << in.rdbuf();
    EXPECT_EQ(now, golden.str());
}

TEST(OracleUrl, ParsesMoltStyleUrls) {
    OracleUrl u =
        OracleUrl::parse("oracle://C%23%23REPL:p%40ss@db.example.com:1522/ORCLCDB", "--sourceConn");
    EXPECT_EQ(u.user, "C##REPL");
    EXPECT_EQ(u.password, "p@ss");
    EXPECT_EQ(u.host, "db.example.com");
    EXPECT_EQ(u.port, 1522U);
    EXPECT_EQ(u.service, "ORCLCDB");
    EXPECT_EQ(u.easy_connect(), "//db.example.com:1522/ORCLCDB?CONNECT_TIMEOUT=10");
    EXPECT_EQ(u.redacted(), "oracle://C##REPL@db.example.com:1522/ORCLCDB");

    OracleUrl v = OracleUrl::parse(
        "oracle://app:se@cret@[::1]/PDB1?CONNECT_TIMEOUT=10&RETRY_COUNT=3", "--sourcePDBConn");
    EXPECT_EQ(v.password, "se@cret");  // the last @ ends the user part
    EXPECT_EQ(v.host, "::1");
    EXPECT_EQ(v.port, 1521U);
    EXPECT_EQ(v.easy_connect(), "//[::1]:1521/PDB1?CONNECT_TIMEOUT=10&RETRY_COUNT=3");
}

TEST(OracleUrl, MalformedUrlsNameTheFlagNeverThePassword) {
    for (const char* bad :
         {"postgres://u:hunter2@h/db", "oracle://u:hunter2@host", "oracle://u:hunter2@host:99999/S",
          "oracle://:hunter2@host/S", "oracle://hunter2host/S", "oracle://u:hunter2@[::1/S"}) {
        try {
            OracleUrl::parse(bad, "--sourceConn");
            ADD_FAILURE() << bad << " was accepted";
        } catch (const Error& e) {
            std::string what = e.what();
            EXPECT_EQ(what.rfind("--sourceConn is not an Oracle URL (", 0), 0U) << what;
            EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
            EXPECT_EQ(e.exit_status(), 2);
        }
    }
}

TEST(OracleOci, MissingClientLibrarySaysWhatToInstall) {
    const char* home = std::getenv("ORACLE_HOME");
    std::string saved = home != nullptr ? home : "";
    ::unsetenv("ORACLE_HOME");
    try {
        oci::open_library({"/nonexistent/instantclient_21_9"});
        ADD_FAILURE() << "a client library was found";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("cannot load the Oracle client library (libclntsh)"), std::string::npos)
            << what;
        EXPECT_NE(what.find("--oracleClientLibDir"), std::string::npos) << what;
        EXPECT_NE(what.find("libaio1"), std::string::npos) << what;
        EXPECT_NE(what.find("/nonexistent/instantclient_21_9/libclntsh.so.19.1: "),
                  std::string::npos)
            << what;
        EXPECT_EQ(e.exit_status(), 2);
    }
    if (!saved.empty()) {
        ::setenv("ORACLE_HOME", saved.c_str(), 1);
    }
    // The stand-in is found in the directory named, and resolves every function.
    oci::Api api = oci::open_library({ORACLE_STAND_IN_DIR});
    EXPECT_NE(api.OCIStmtFetch2, nullptr);
}

TEST(OracleOci, LoginAndConnectionErrors) {
    test::ServerWorld world(1, 1);
    const oci::Api& api = oci::load({ORACLE_STAND_IN_DIR});
    OracleUrl wrong = world.url();
    wrong.password = "hunter2";
    try {
        OciSession session(api, wrong, {});
        ADD_FAILURE() << "a wrong password logged in";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(what.find("ORA-01017"), std::string::npos) << what;
        EXPECT_NE(what.find("check the user name and password"), std::string::npos) << what;
        EXPECT_NE(what.find("oracle://C##REPL@127.0.0.1:"), std::string::npos) << what;
        EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
    }
    OciSession session(api, world.url(), {});
    EXPECT_EQ(session.ping(), "");
    try {
        session.execute("DROP TABLE APP.T1");
        ADD_FAILURE() << "an unknown statement ran";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("ORA-00900"), std::string::npos) << e.what();
        EXPECT_FALSE(e.retryable());
    }
    OracleUrl nobody = world.url();
    nobody.port = 1;  // nothing listens there
    try {
        OciSession none(api, nobody, {});
        ADD_FAILURE() << "connected to nothing";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("ORA-12541"), std::string::npos) << e.what();
        EXPECT_TRUE(e.retryable());
    }
}

TEST(OracleOci, LogViewsReadThroughOci) {
    test::ServerWorld world(3, 2);
    for (int i = 0; i < 200; ++i) {
        world.step();
    }
    world.finish();
    LogMiner& miner = world.miner();
    uint64_t scn = miner.current_scn();
    EXPECT_EQ(scn, world.current_scn());
    std::vector<RedoThread> threads = miner.threads();
    ASSERT_EQ(threads.size(), 2U);
    EXPECT_TRUE(threads[0].open && threads[0].enabled);
    EXPECT_EQ(threads[1].last_redo_scn, world.last_redo()[1]);
    std::vector<LogFile> online = miner.online_logs(100, scn);
    ASSERT_FALSE(online.empty());
    bool current = false;
    for (const LogFile& f : online) {
        current = current || f.current;
        EXPECT_FALSE(f.archived);
    }
    EXPECT_TRUE(current);
}

}  // namespace
}  // namespace rep::oracle
