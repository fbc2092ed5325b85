// --userscript through real sources and a real target: MOLT's cookbook uses of schema-level
// handlers (filter tables, filter rows, drop and rename columns, compute values, route by
// key range, protect deletes), on pglogical and mylogical, and the errors of a script that
// does not compile, throws, or runs too long.

#include "harness.h"
#include "ledger_workload.h"
#include "my_ledger.h"
#include "mysql_harness.h"
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <signal.h>

namespace {

using harness::converges;
using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using harness::write_script;
using namespace std::chrono_literals;

// The cookbook's table filter, a soft-delete row filter, a column filter, a rename and a
// computed column, written in TypeScript with a helper module and a text import.
const char* kShopScript = R"(import * as api from "replicator@v2";
import { skipped } from "./lib";
import banner from "./banner.txt";

interface Row { [column: string]: any }

console.info(banner.trim());
const schema: string = "it_us_shop.public";

api.configureTargetSchema(schema, {
  onRowUpsert: (row: Row, meta) => {
    if (skipped.has(meta.table)) return null;
    if (meta.table === "customers") {
      if (row.is_deleted !== undefined && Number(row.is_deleted) === 1) return null;
      const { ssn, name, ...rest } = row;     // column filter
      return { ...rest, full_name: name };    // rename: name -> full_name
    }
    if (meta.table === "orders") {
      row.total = (Number(row.price) * Number(row.qty)).toFixed(2);  // computed column
      return row;
    }
    return row;
  },
  onRowDelete: (row: Row, meta) => {
    if (skipped.has(meta.table)) return null;
    if (meta.table === "orders" && Number(row.id) < 100) return null;  // protected deletes
    return row;
  },
});
)";

// The shop script through a source with customers, orders, audit_log and sessions, on a
// target with customers(id, full_name, is_deleted) and orders(id, price, qty, total):
// `db` is a PostgreSQL (Databases) or MariaDB (MyDatabases) source, `schema` its
// --targetSchema.
template <typename Db>
void shop_cookbook(Db& db, const std::string& schema) {
    write_script(db.name, "lib.ts",
                 "export const skipped = new Set<string>([\"audit_log\", \"sessions\"]);\n");
    write_script(db.name, "banner.txt", "shop script loaded\n");
    std::string text = kShopScript;
    text.replace(text.find("it_us_shop.public"), 17, schema);
    std::string script = write_script(db.name, "shop.ts", text);
    Replicator r(db.args({"--userscript", script}), fresh_log(db.name));
    db.source->exec(
        "INSERT INTO customers VALUES (1, 'Ada', '123-45-6789', 0), (2, 'Bob', '987', 1);"
        "INSERT INTO orders VALUES (50, 2.50, 4), (150, 10.10, 3);"
        "INSERT INTO audit_log VALUES (1, 'not replicated');"
        "INSERT INTO sessions VALUES (1, 'not replicated either')");
    db.source->exec("DELETE FROM orders; UPDATE customers SET name = 'Ada L' WHERE id = 1");
    db.source->exec("INSERT INTO orders VALUES (999, 1, 1)");  // a marker: all before applied
    ASSERT_TRUE(
        harness::wait_for([&] { return db.target->count("orders WHERE id = 999") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(id || ':' || full_name, ',' ORDER BY id) "
                               "FROM customers"),
              "1:Ada L");  // Bob soft-deleted, never written
    // Order 50 is protected from deletes; 150 was deleted; totals computed.
    EXPECT_EQ(db.target->value("SELECT string_agg(id || ':' || total, ',' ORDER BY id) "
                               "FROM orders"),
              "50:10.00,999:1.00");
    EXPECT_NE(r.log().find("shop.ts: shop script loaded"), std::string::npos) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

const char* kShopTarget =
    "CREATE TABLE customers(id int PRIMARY KEY, full_name text, is_deleted int);"
    "CREATE TABLE orders(id int PRIMARY KEY, price numeric, qty int, total numeric(12,2));";

TEST(Userscript, CookbookFiltersTransformsAndProtectedDeletesOnPglogical) {
    Databases db("it_us_shop",
                 "CREATE TABLE customers(id int PRIMARY KEY, name text, ssn text, is_deleted int);"
                 "CREATE TABLE orders(id int PRIMARY KEY, price numeric, qty int);"
                 "CREATE TABLE audit_log(id int PRIMARY KEY, note text);"
                 "CREATE TABLE sessions(id int PRIMARY KEY, token text);");
    db.target->exec(std::string("DROP TABLE customers, orders, audit_log, sessions;") +
                    kShopTarget);
    shop_cookbook(db, "it_us_shop.public");
}

// The same cookbook script on a MariaDB source: what the script sees and answers does not
// depend on the command.
TEST(Userscript, CookbookFiltersTransformsAndProtectedDeletesOnMylogical) {
    harness::MyDatabases db(
        "my_us_shop",
        "CREATE TABLE customers(id INT PRIMARY KEY, name VARCHAR(50), ssn VARCHAR(20), "
        "is_deleted INT);"
        "CREATE TABLE orders(id INT PRIMARY KEY, price DECIMAL(10,2), qty INT);"
        "CREATE TABLE audit_log(id INT PRIMARY KEY, note VARCHAR(50));"
        "CREATE TABLE sessions(id INT PRIMARY KEY, token VARCHAR(50));",
        kShopTarget);
    shop_cookbook(db, "my_us_shop.public");
}

// Route by key range into three tables, and rename a table, on a MariaDB source: the same
// script API on another command.
TEST(Userscript, RoutesByKeyRangeOnMylogical) {
    harness::MyDatabases db("my_us_route", "CREATE TABLE events(id INT PRIMARY KEY, v VARCHAR(20))",
                            "CREATE TABLE ev_low(id int PRIMARY KEY, v text);"
                            "CREATE TABLE ev_mid(id int PRIMARY KEY, v text);"
                            "CREATE TABLE ev_high(id int PRIMARY KEY, v text);");
    std::string script = write_script("us_route", "route.ts", R"(
import * as api from "replicator@v2";
function route(row: any) {
  const id = parseInt(row.id, 10);
  if (id <= 10) return { ev_low: [row] };
  if (id <= 20) return { ev_mid: [row] };
  return { ev_high: [row] };
}
api.configureTargetSchema("my_us_route.public", { onRowUpsert: route, onRowDelete: route });
)");
    Replicator r(db.args({"--userscript", script}), fresh_log("my_us_route"));
    db.source->exec("INSERT INTO events SELECT seq, CONCAT('v', seq) FROM seq_1_to_30");
    db.source->exec("DELETE FROM events WHERE id IN (5, 15, 25)");
    db.source->exec("UPDATE events SET v = 'changed' WHERE id = 30");
    ASSERT_TRUE(harness::wait_for(
        [&] {
            return db.target->value("SELECT v FROM ev_high WHERE id = 30") ==
                   std::optional<std::string>("changed");
        },
        60s))
        << r.log();
    EXPECT_EQ(db.target->count("ev_low"), 9);
    EXPECT_EQ(db.target->count("ev_mid"), 9);
    EXPECT_EQ(db.target->count("ev_high"), 9);
    EXPECT_EQ(db.target->count("ev_low WHERE id = 5"), 0);
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// A script that does not compile, or forgets --targetSchema, stops the replicator before it
// connects (exit status 2), naming the file and line.
TEST(Userscript, ScriptsThatCannotRunAreRefusedAtStart) {
    Databases db("it_us_bad", "CREATE TABLE t(id int PRIMARY KEY)");
    std::string broken = write_script("us_bad", "broken.ts",
                                      "import * as api from \"replicator@v2\";\n"
                                      "const x: number = ;\n");
    auto [status, out] = harness::run_replicator(db.args({"--userscript", broken}), 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("broken.ts:2:19: syntax error: Unexpected token"), std::string::npos) << out;

    std::string other = write_script(
        "us_bad", "other.ts",
        "import * as api from \"replicator@v2\";\n"
        "api.configureTargetSchema(\"IT_US_BAD.public\", {onRowUpsert: r => r, onRowDelete: r => "
        "r});\n");
    std::tie(status, out) = harness::run_replicator(db.args({"--userscript", other}), 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("not --targetSchema \"it_us_bad.public\""), std::string::npos) << out;

    std::string throws = write_script("us_bad", "throws.ts",
                                      "import * as api from \"replicator@v2\";\n"
                                      "\n"
                                      "throw new Error(\"no config for this environment\");\n");
    std::tie(status, out) = harness::run_replicator(db.args({"--userscript", throws}), 60s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("throws.ts:3"), std::string::npos) << out;
    EXPECT_NE(out.find("no config for this environment"), std::string::npos) << out;
}

// `replicator userscript` connects to nothing: --api prints the declarations an editor
// needs, --check loads a script and reports its errors, or the schemas it configures.
TEST(Userscript, CheckAndApiWorkWithoutADatabase) {
    auto [status, out] = harness::run_replicator({"userscript", "--api"}, 30s);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("declare module \"replicator@v2\""), std::string::npos) << out;
    EXPECT_NE(out.find("export function configureTargetSchema("), std::string::npos) << out;

    std::string good = write_script("us_check", "good.ts",
                                    "import * as api from \"replicator@v2\";\n"
                                    "api.configureTargetSchema(\"db.public\", "
                                    "{onRowUpsert: (r) => r, onRowDelete: (r) => r});\n");
    std::tie(status, out) = harness::run_replicator(
        {"userscript", "--check", good, "--targetSchema", "db.public"}, 30s);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("good.ts: loads; configureTargetSchema for \"db.public\""),
              std::string::npos)
        << out;
    std::tie(status, out) =
        harness::run_replicator({"userscript", "--check", good, "--targetSchema", "x.y"}, 30s);
    EXPECT_EQ(status, 2) << out;

    std::string bad = write_script("us_check", "bad.ts", "let x: = 1;\n");
    std::tie(status, out) = harness::run_replicator({"userscript", "--check", bad}, 30s);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("bad.ts:1:"), std::string::npos) << out;
}

// The user's own modules: a bare sibling name, a cycle between two modules (each sees what the
// other exported, as in Node), an index file, a path up a directory and a JSON file, all
// loaded by --check exactly as --userscript loads them.
TEST(Userscript, ImportsOfTheUsersOwnModules) {
    write_script("us_imports", "shared.ts", "export const suffix: string = \"!\";\n");
    write_script("us_imports/app", "a.ts",
                 "import { bName } from \"./b\";\n"
                 "export const aName = \"a\";\n"
                 "export function both() { return aName + bName; }\n");
    write_script("us_imports/app", "b.ts",
                 "import { both } from \"./a\";\n"
                 "import { suffix } from \"../shared\";\n"
                 "export const bName = \"b\";\n"
                 "export function check() { return both() + suffix; }\n");
    write_script("us_imports/app/names", "index.ts", "export default [\"x\", \"y\"];\n");
    write_script("us_imports/app", "cfg.json", "{\"schema\": \"db.public\"}\n");
    std::string main = write_script(
        "us_imports/app", "main.ts",
        "import * as api from \"replicator@v2\";\n"
        "import { check } from \"b\";\n"
        "import names from \"./names\";\n"
        "import cfg from \"./cfg.json\";\n"
        "const got = check() + names.join(\"\");\n"
        "if (got !== \"ab!xy\") throw new Error(\"imports gave \" + got);\n"
        "api.configureTargetSchema(cfg.schema, {onRowUpsert: (r) => r, onRowDelete: (r) => r});\n");
    auto [status, out] = harness::run_replicator({"userscript", "--check", main}, 30s);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("main.ts: loads; configureTargetSchema for \"db.public\""),
              std::string::npos)
        << out;
}

// A handler that throws, or loops, stops replication with the script position, the table and
// the row's key, and the checkpoint stays before that transaction: once the script is fixed,
// the same command applies it.
TEST(Userscript, HandlerFailuresStopWithoutMovingTheCheckpoint) {
    Databases db("it_us_throw", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    const std::string head =
        "import * as api from \"replicator@v2\";\n"
        "api.configureTargetSchema(\"it_us_throw.public\", {\n"
        "  onRowDelete: (r) => r,\n";
    std::string script = write_script(
        "us_throw", "t.ts",
        head +
            "  onRowUpsert: (r) => { if (r.id === \"2\") throw new Error(\"bad row\"); "
            "return r; },\n});\n");
    db.source->exec("INSERT INTO t VALUES (1, 'a')");
    db.source->exec("INSERT INTO t VALUES (2, 'b')");
    auto [status, out] = harness::run_replicator(db.args({"--userscript", script}), 60s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("t.ts:4"), std::string::npos) << out;
    EXPECT_NE(out.find("bad row"), std::string::npos) << out;
    EXPECT_NE(out.find("public.t (row id=2)"), std::string::npos) << out;
    // The first transaction may have been applied before the second one failed; the second
    // was not, not even in part.
    EXPECT_EQ(db.target->count("t WHERE id = 2"), 0);

    write_script("us_throw", "t.ts",
                 head +
                     "  onRowUpsert: (r) => { if (r.id === \"2\") for (;;) {} return r; },\n"
                     "});\n");
    std::tie(status, out) = harness::run_replicator(db.args({"--userscript", script}), 90s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("onRowUpsert"), std::string::npos) << out;
    EXPECT_EQ(db.target->count("t WHERE id = 2"), 0);

    write_script("us_throw", "t.ts", head + "  onRowUpsert: (r) => r,\n});\n");
    Replicator r(db.args({"--userscript", script}), fresh_log("it_us_throw"));
    EXPECT_TRUE(converges(db, {"t"})) << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// An UPDATE that changes the key of a row whose large value stays unchanged: PostgreSQL sends
// the new row without that value (TOAST), and the script sees the change as a delete and an
// insert. With REPLICA IDENTITY FULL the old row supplies the value; otherwise, answered with
// one delete and one row of one table, the row is moved on the target, which keeps it. A
// script that keeps the old row (protected deletes) cannot have it moved: the replicator
// stops naming the table, column and fix rather than insert the row with NULL there.
TEST(Userscript, KeyChangesWithAnUnchangedLargeValueKeepItOrStop) {
    Databases db("it_us_toast",
                 "CREATE TABLE full_rows(id int PRIMARY KEY, big text);"
                 "CREATE TABLE key_rows(id int PRIMARY KEY, big text);"
                 "CREATE TABLE kept_rows(id int PRIMARY KEY, big text);"
                 "ALTER TABLE full_rows REPLICA IDENTITY FULL");
    std::string script = write_script("us_toast", "pass.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("it_us_toast.public", {
  onRowUpsert: (r) => r,
  onRowDelete: (r, meta) => (meta.table === "kept_rows" ? null : r),
});
)");
    // Incompressible, so stored out of line: an UPDATE that leaves it sends no value for it.
    const std::string big =
        "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 300))";
    for (const char* t : {"full_rows", "key_rows", "kept_rows"}) {
        db.source->exec(std::string("INSERT INTO ") + t + " VALUES (1, " + big + ")");
    }
    Replicator r(db.args({"--userscript", script}), fresh_log("it_us_toast"));
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("kept_rows") == 1; }, 60s))
        << r.log();
    for (const char* t : {"full_rows", "key_rows"}) {
        db.source->exec(std::string("UPDATE ") + t + " SET id = 2 WHERE id = 1");
        ASSERT_TRUE(harness::wait_for(
            [&] { return db.target->count(std::string(t) + " WHERE id = 2") == 1; }, 60s))
            << t << "\n"
            << r.log();
        const std::string digest =
            std::string("SELECT string_agg(id || ':' || coalesce(md5(big), 'NULL'), ',') FROM ") +
            t;
        EXPECT_EQ(db.target->value(digest), db.source->value(digest)) << t;
    }
    db.source->exec("UPDATE kept_rows SET id = 2 WHERE id = 1");
    EXPECT_EQ(r.wait(60s), 1) << r.log();
    for (const char* part : {"source table public.kept_rows", "column \"big\"", "(new row id=2)",
                             "ALTER TABLE public.kept_rows REPLICA IDENTITY FULL"}) {
        EXPECT_NE(r.log().find(part), std::string::npos) << part << "\n" << r.log();
    }
    // Nothing of that transaction applied: the old row stays whole, and alone.
    EXPECT_EQ(db.target->value("SELECT string_agg(id || ':' || length(big), ',') FROM kept_rows"),
              "1:9600");
}

// kill -9 at random moments while a script routes one table into two, writes another in
// onWrite and passes a third through table-level row handlers: rows the script routes,
// passes or writes itself are checkpointed with their source transaction like any other, so
// the ledger stays an unbroken prefix throughout, no transaction is applied twice, and in the
// end the tables hold exactly the source's rows.
TEST(Userscript, KillNineDuringARoutingScriptLosesAndRepeatsNothing) {
    Databases db("it_us_kill", harness::kWorkloadDdl);
    db.target->exec(
        "DROP TABLE events;"
        "CREATE TABLE events_even(id bigint PRIMARY KEY, account int, body text);"
        "CREATE TABLE events_odd(id bigint PRIMARY KEY, account int, body text);");
    harness::count_ledger_writes(db);
    std::string script = write_script("us_kill", "route.ts", R"(
import * as api from "replicator@v2";
const route = (row: any, meta: any) =>
  meta.table !== "events" ? row
    : BigInt(row.id) % 2n === 0n ? { events_even: [row] } : { events_odd: [row] };
api.configureTargetSchema("it_us_kill.public", { onRowUpsert: route, onRowDelete: route });
)" + std::string(harness::kLedgerApplySideHandlers));
    auto args = db.args({"--userscript", script});
    std::string log = harness::fresh_log("it_us_kill");
    harness::Workload work(db, 23);
    harness::LedgerSampler sampler(db, harness::Check::kAtomicAndPrefix);
    work.start();
    harness::kill_nine_repeatedly(args, log, harness::kill_count(8), 5);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    EXPECT_TRUE(sampler.sampled_more_than(50));
    work.stop();
    ASSERT_EQ(work.error(), "");
    Replicator r(args, log);
    EXPECT_TRUE(harness::converges(db, {"ledger", "audit", "accounts", "tags"}, 120s)) << r.log();
    auto events = [&](harness::Sql& s, const std::string& where) {
        return s.value(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(id || '/' || "
            "coalesce(account::text, '') || '/' || coalesce(body, ''), ',' ORDER BY "
            "id)), '') FROM " +
            where);
    };
    EXPECT_TRUE(harness::wait_for(
        [&] {
            return events(*db.source, "events") ==
                   events(*db.target,
                          "(SELECT * FROM events_even UNION ALL SELECT * FROM events_odd) e");
        },
        60s))
        << r.log();
    EXPECT_EQ(db.target->count("events_even WHERE id % 2 = 1"), 0);
    sampler.stop();
    EXPECT_EQ(sampler.violations(), 0) << sampler.first_violation();
    EXPECT_TRUE(harness::applied_once(db));
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

}  // namespace
