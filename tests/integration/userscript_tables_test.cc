// --userscript table-level handlers (configureTargetTables) through a real source and a real
// target: MOLT's cookbook uses of onRowUpsert/onRowDelete per target table, the foreign-key
// check and the dead-letter queue in onWrite (api.write and getTX() in the apply
// transaction), with several apply connections, and the errors of handlers that misbehave;
// API v1's configureSource/configureTable. The cookbook cases run on PostgreSQL and MariaDB
// sources.

#include "harness.h"
#include "my_ledger.h"
#include "mysql_harness.h"
#include <gtest/gtest.h>

#include <signal.h>

namespace {

using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using harness::write_script;
using namespace std::chrono_literals;

// Table-level transforms and protected deletes on a composite key, next to a schema-level
// column filter: the schema-level handler runs first (on source names), the table-level
// ones see the target table's columns and key order.
TEST(UserscriptTables, TransformsAndProtectedDeletesByKeyOrder) {
    Databases db("it_ust_orders",
                 "CREATE TABLE orders(region text, id int, status text, secret text, "
                 "PRIMARY KEY (region, id));");
    // The target's key order differs from the source's: keyVals follow the target's.
    db.target->exec(
        "DROP TABLE orders;"
        "CREATE TABLE orders(id int, region text, status text, status_text text, "
        "replicated_at text, PRIMARY KEY (id, region));");
    std::string script = write_script("ust_orders", "orders.ts", R"ts(
import * as api from "replicator@v2";
const STATUS: Record<string, string> = { N: "new", S: "shipped" };
api.configureTargetSchema("it_ust_orders.public", {
  onRowUpsert: (row) => { const { secret, ...rest } = row; return rest; },
  onRowDelete: (row) => row,
});
api.configureTargetTables(["orders"], {
  onRowUpsert: (row, meta) => {
    if (meta.table !== "orders" || meta.schema !== "it_ust_orders.public") throw new Error("meta");
    return { ...row, status_text: STATUS[row.status as string] ?? "unknown",
             replicated_at: new Date(0).toISOString() };
  },
  onRowDelete: (keys: string[]) => {
    const [orderId, regionCode] = keys;
    if (regionCode === "eu" || Number(orderId) >= 1000) return null;  // protected
    return keys;
  },
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log("it_ust_orders"));
    db.source->exec(
        "INSERT INTO orders VALUES ('us', 1, 'N', 'x'), ('eu', 2, 'S', 'x'), ('us', 1000, 'S', "
        "'x'), ('us', 3, 'Q', 'x')");
    db.source->exec("DELETE FROM orders WHERE id IN (1, 2, 1000)");
    db.source->exec("UPDATE orders SET status = 'S' WHERE id = 3");
    db.source->exec("INSERT INTO orders VALUES ('us', 99, 'N', 'x')");  // a marker
    ASSERT_TRUE(
        harness::wait_for([&] { return db.target->count("orders WHERE id = 99") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(id || region || ':' || status || '/' || "
                               "status_text || '@' || replicated_at, ',' ORDER BY id) FROM orders"),
              "2eu:S/shipped@1970-01-01T00:00:00.000Z,3us:S/shipped@1970-01-01T00:00:00.000Z,"
              "99us:N/new@1970-01-01T00:00:00.000Z,1000us:S/shipped@1970-01-01T00:00:00.000Z");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// A column named "__proto__" reaches table-level handlers and onWrite's rows as a property
// like any other (a plain set in the engine would have taken it for the prototype, and the
// row would have lost the value).
TEST(UserscriptTables, AColumnNamedProtoReachesHandlersAndOnWrite) {
    Databases db("it_ust_proto",
                 "CREATE TABLE t(id int PRIMARY KEY, \"__proto__\" text, note text);");
    std::string script = write_script("ust_proto", "proto.ts", R"ts(
import * as api from "replicator@v2";
api.configureTargetTables(["t"], {
  onRowUpsert: (row) => ({ ...row, note: Object.keys(row).join() + "=" + row["__proto__"] }),
  onRowDelete: (k) => k,
  onWrite: async (ops) => {
    for (const op of ops) op.data.note += "|" + op.data["__proto__"];
    await api.write(ops);
  },
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log("it_ust_proto"));
    db.source->exec("INSERT INTO t VALUES (1, 'kept', NULL)");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 1; }, 60s)) << r.log();
    EXPECT_EQ(db.target->value("SELECT \"__proto__\" || ' ' || note FROM t"),
              "kept id,__proto__,note=kept|kept");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// The cookbook's foreign-key check: onWrite writes an order only if its customer exists on
// the target, and counts it on the customer in the same transaction; on four connections.
// `db` is a PostgreSQL (Databases) or MariaDB (MyDatabases) source with its target, both
// with customers(id, num_orders) and orders(id, customer_id, amount).
template <typename Db>
void foreign_key_check_in_on_write(Db& db, const std::string& schema) {
    std::string script = write_script(db.name, "fk.ts", R"ts(
import * as api from "replicator@v2";
api.configureTargetTables([")ts" + schema + R"ts(.orders"], {
  onWrite: async (rows) => {
    const tx = api.getTX();
    for (const op of rows) {
      if (op.action === "delete") { await api.write([op]); continue; }
      const found = await tx.query("SELECT id FROM " + tx.schema() + ".customers WHERE id = $1",
                                   op.data.customer_id);
      if ([...found].length === 0) {
        console.warn("skipping order", op.data.id, "of unknown customer", op.data.customer_id);
        continue;
      }
      await api.write([op]);
      await tx.exec("UPDATE " + tx.schema() + ".customers SET num_orders = num_orders + 1 " +
                    "WHERE id = $1", op.data.customer_id);
    }
  },
});
)ts");
    // num_orders is the target's own count: leave it alone on the source side.
    db.source->exec("INSERT INTO customers VALUES (1, 0), (2, 0)");
    Replicator r(db.args({"--userscript", script, "--parallelism", "4"}), fresh_log(db.name));
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("customers") == 2; }, 60s))
        << r.log();
    db.source->exec("INSERT INTO orders VALUES (10, 1, 5), (11, 1, 6), (12, 3, 7), (13, 2, 8)");
    // Applied before the delete: changes of one key in one batch reach onWrite folded into
    // their net effect, and an insert deleted in the same batch would never be counted.
    ASSERT_TRUE(
        harness::wait_for([&] { return db.target->count("orders WHERE id = 13") == 1; }, 60s))
        << r.log();
    db.source->exec("DELETE FROM orders WHERE id = 11");
    db.source->exec("INSERT INTO orders VALUES (14, 2, 9)");
    ASSERT_TRUE(
        harness::wait_for([&] { return db.target->count("orders WHERE id = 14") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(id::text, ',' ORDER BY id) FROM orders"),
              "10,13,14");
    EXPECT_EQ(db.target->value("SELECT string_agg(id || ':' || num_orders, ',' ORDER BY id) FROM "
                               "customers"),
              "1:2,2:2");
    EXPECT_NE(r.log().find("fk.ts: skipping order 12 of unknown customer 3"), std::string::npos)
        << r.log();
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

TEST(UserscriptTables, ForeignKeyCheckInOnWrite) {
    Databases db("it_ust_fk",
                 "CREATE TABLE customers(id int PRIMARY KEY, num_orders int NOT NULL DEFAULT 0);"
                 "CREATE TABLE orders(id int PRIMARY KEY, customer_id int, amount numeric);");
    foreign_key_check_in_on_write(db, "it_ust_fk.public");
}

TEST(UserscriptTables, ForeignKeyCheckInOnWriteOnMylogical) {
    harness::MyDatabases db(
        "my_ust_fk",
        "CREATE TABLE customers(id INT PRIMARY KEY, num_orders INT NOT NULL DEFAULT 0);"
        "CREATE TABLE orders(id INT PRIMARY KEY, customer_id INT, amount DECIMAL(10,2));",
        "CREATE TABLE customers(id int PRIMARY KEY, num_orders int NOT NULL DEFAULT 0);"
        "CREATE TABLE orders(id int PRIMARY KEY, customer_id int, amount numeric);");
    foreign_key_check_in_on_write(db, "my_ust_fk.public");
}

// The cookbook's dead-letter queue: onWrite tries the batch under a savepoint; on a NOT NULL
// violation (SQLSTATE 23502) it rolls back to the savepoint and writes row by row, each
// under a savepoint of its own, sending the rows the target refuses to a DLQ table. The good
// rows of the same transaction are applied, and replication goes on. The script names the
// table in upper case: MOLT compares names regardless of case (its Oracle scripts spell
// EMPLOYEES for the target's employees), so the handlers still serve `items`. `db` as above,
// with items(id, name) on the source and, on the target, name NOT NULL and dlq.
template <typename Db>
void dead_letter_queue_with_savepoints(Db& db) {
    std::string script = write_script(db.name, "dlq.ts", R"ts(
import * as api from "replicator@v2";
api.configureTargetTables(["ITEMS"], {
  onWrite: async (rows) => {
    const tx = api.getTX();
    await tx.exec("SAVEPOINT dlq_checkpoint");
    try {
      await api.write(rows);
      return;
    } catch (e) {
      if (!String(e).includes("SQLSTATE 23502")) throw e;
      await tx.exec("ROLLBACK TO SAVEPOINT dlq_checkpoint");
    }
    for (const row of rows) {
      await tx.exec("SAVEPOINT dlq_row");
      try {
        await api.write([row]);
      } catch (err) {
        await tx.exec("ROLLBACK TO SAVEPOINT dlq_row");
        await tx.exec("INSERT INTO dlq (stmt, err) VALUES ($1, $2)", JSON.stringify(row.data),
                      String(err));
      }
    }
  },
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log(db.name));
    db.source->exec("INSERT INTO items VALUES (1, 'a'), (2, NULL), (3, 'c')");
    db.source->exec("INSERT INTO items VALUES (4, 'd')");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("items WHERE id = 4") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(id || name, ',' ORDER BY id) FROM items"),
              "1a,3c,4d");
    EXPECT_EQ(db.target->count("dlq"), 1);
    EXPECT_EQ(db.target->value("SELECT stmt FROM dlq"), "{\"id\":\"2\",\"name\":null}");
    EXPECT_NE(db.target->value("SELECT err FROM dlq").value_or("").find("SQLSTATE 23502"),
              std::string::npos);
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

TEST(UserscriptTables, DeadLetterQueueWithSavepoints) {
    Databases db("it_ust_dlq", "CREATE TABLE items(id int PRIMARY KEY, name text);");
    db.target->exec(
        "ALTER TABLE items ALTER COLUMN name SET NOT NULL;"
        "CREATE TABLE dlq(seq serial PRIMARY KEY, stmt text, err text);");
    dead_letter_queue_with_savepoints(db);
}

TEST(UserscriptTables, DeadLetterQueueWithSavepointsOnMylogical) {
    harness::MyDatabases db("my_ust_dlq",
                            "CREATE TABLE items(id INT PRIMARY KEY, name VARCHAR(20))",
                            "CREATE TABLE items(id int PRIMARY KEY, name text NOT NULL);"
                            "CREATE TABLE dlq(seq serial PRIMARY KEY, stmt text, err text);");
    dead_letter_queue_with_savepoints(db);
}

// onWrite on a MariaDB source: rows it does not write are skipped, and a key change (an
// UPDATE of the primary key) reaches it as a delete and an upsert it can write through.
TEST(UserscriptTables, OnWriteFiltersOnMylogical) {
    harness::MyDatabases db("my_ust_w", "CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(20))",
                            "CREATE TABLE t(id int PRIMARY KEY, v text);");
    std::string script = write_script("ust_my", "w.ts", R"ts(
import * as api from "replicator@v2";
api.configureTargetTables(["t"], {
  onWrite: (rows) => api.write(rows.filter((op) => op.action === "delete" || op.data.v !== "skip")),
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log("my_ust_w"));
    db.source->exec("INSERT INTO t VALUES (1, 'a'), (2, 'skip'), (3, 'c')");
    db.source->exec("UPDATE t SET id = 30 WHERE id = 3");
    db.source->exec("INSERT INTO t VALUES (9, 'marker')");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t WHERE id = 9") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(id || v, ',' ORDER BY id) FROM t"),
              "1a,9marker,30c");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// Table-level handlers see the characters of text in another character set (a MariaDB gbk
// column, converted by the source reader): a handler counting them counts two in "中文".
// Text that is not UTF-8 cannot reach a handler from a real source any more (the readers
// convert, or stop: MylogicalCharsets.*; PostgreSQL checks its own); the stage's refusal of
// it is a unit test (ScriptStage.TextThatIsNotUtf8IsRefused).
TEST(UserscriptTables, TextInAnotherCharacterSetReachesHandlersAsItsCharacters) {
    harness::MyDatabases db("my_ust_gbk",
                            "CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(20) CHARACTER SET gbk)",
                            "CREATE TABLE t(id int PRIMARY KEY, v text);");
    std::string script = write_script("ust_gbk", "count.ts", R"ts(
import * as api from "replicator@v2";
api.configureTargetTables(["t"], {
  onRowUpsert: (row) => ({ ...row, v: `${row.v}:${row.v.length}` }),
  onRowDelete: (k) => k,
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log("my_ust_gbk"));
    db.source->exec("SET NAMES utf8mb4");
    db.source->exec("INSERT INTO t VALUES (1, 'plain'); INSERT INTO t VALUES (2, '中文')");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 2; }, 60s)) << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(v, ' ' ORDER BY id) FROM t"), "plain:5 中文:2");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// Handlers that misbehave stop replication with an error naming the script, the handler and
// the table, and nothing of the failing transaction is applied.
TEST(UserscriptTables, MisbehavingHandlersStopWithClearErrors) {
    Databases db("it_ust_bad", "CREATE TABLE t(id int PRIMARY KEY, v text);");
    db.source->exec("INSERT INTO t VALUES (1, 'a')");
    auto run = [&](const std::string& name, const std::string& handlers) {
        std::string script = write_script("ust_bad", name,
                                          "import * as api from \"replicator@v2\";\n"
                                          "api.configureTargetTables([\"t\"], {\n" +
                                              handlers + "\n});\n");
        return harness::run_replicator(db.args({"--userscript", script}), 90s);
    };
    // Out-of-order commits rely on the source's keys, which table-level handlers may change.
    std::string plain =
        write_script("ust_bad", "plain.ts",
                     "import * as api from \"replicator@v2\";\n"
                     "api.configureTargetTables([\"t\"], {onWrite: (o) => api.write(o)});\n");
    auto [refused, why] =
        harness::run_replicator(db.args({"--userscript", plain, "--unorderedCommits"}), 60s);
    EXPECT_EQ(refused, 2) << why;
    EXPECT_NE(why.find("--unorderedCommits cannot be used"), std::string::npos) << why;
    // A statement fails, the script catches the error and goes on without a savepoint.
    auto [status, out] = run("swallow.ts",
                             "onWrite: async (rows) => { await api.write(rows); try { await "
                             "api.getTX().exec(\"SELECT 1/0\"); } catch {} },");
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("onWrite for table public.t"), std::string::npos) << out;
    EXPECT_NE(out.find("ROLLBACK TO SAVEPOINT"), std::string::npos) << out;
    // The handler throws.
    std::tie(status, out) = run("throw.ts", "onWrite: (rows) => { throw new Error(\"no way\"); },");
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("throw.ts:3"), std::string::npos) << out;
    EXPECT_NE(out.find("no way"), std::string::npos) << out;
    // The handler loops after its write: the time limit stops it, the write is not committed.
    std::tie(status, out) =
        run("loop.ts", "onWrite: async (rows) => { await api.write(rows); for (;;) {} },");
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("onWrite for table public.t failed"), std::string::npos) << out;
    EXPECT_NE(out.find("the limit for one call"), std::string::npos) << out;
    // A row handler hoards memory: the engine's memory limit stops it.
    std::tie(status, out) = run("hog.ts",
                                "onRowUpsert: (row) => { const a = []; for (;;) a.push(new "
                                "Array(10000).fill(row.id)); },\n"
                                "onRowDelete: (keys) => keys,");
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("onRowUpsert threw for target table public.t (row id=1)"), std::string::npos)
        << out;
    EXPECT_NE(out.find("heap grew past 256 MiB, the memory limit of one engine"), std::string::npos)
        << out;
    // A row handler answers with a column the table does not have.
    std::tie(status, out) = run("col.ts",
                                "onRowUpsert: (row) => ({ ...row, nope: \"1\" }),\n"
                                "onRowDelete: (keys) => keys,");
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("column \"nope\" for target table public.t (row id=1)"), std::string::npos)
        << out;
    EXPECT_EQ(db.target->count("t"), 0);
}

}  // namespace

namespace {

// MOLT's cookbook on a MariaDB source: filter several tables, rename a table and its primary
// key (deletes keep the old key name too, as the cookbook does: extra key columns of a
// delete are ignored), transform values, and a table-level handler after them.
TEST(UserscriptCookbook, RenamesFiltersAndTransformsOnMylogical) {
    harness::MyDatabases db("my_us_cook",
                            "CREATE TABLE skip_a(id INT PRIMARY KEY);"
                            "CREATE TABLE skip_b(id INT PRIMARY KEY);"
                            "CREATE TABLE legacy_items(pk1 INT PRIMARY KEY, name VARCHAR(20), "
                            "status VARCHAR(10))",
                            "CREATE TABLE items(id1 int PRIMARY KEY, name text, status text, "
                            "seen text);");
    std::string script = write_script("us_cook", "cook.ts", R"ts(
import * as api from "replicator@v2";
const SKIP = new Set(["skip_a", "skip_b"]);
const TABLES: Record<string, string> = { legacy_items: "items" };
api.configureTargetSchema("my_us_cook.public", {
  onRowUpsert: (row: any, meta: any) => {
    if (SKIP.has(meta.table)) return null;
    const { pk1, ...rest } = row;
    return { [TABLES[meta.table]]: [{ ...rest, id1: pk1, status: String(row.status).toUpperCase() }] };
  },
  onRowDelete: (row: any, meta: any) => {
    if (SKIP.has(meta.table)) return null;
    const keys: any = { ...row };
    if (row.pk1 !== undefined) keys.id1 = row.pk1;
    return { [TABLES[meta.table]]: [keys] };
  },
});
api.configureTargetTables(["items"], {
  onRowUpsert: (row: any) => ({ ...row, seen: "yes" }),
  onRowDelete: (keys: string[]) => keys,
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log("my_us_cook"));
    db.source->exec("INSERT INTO skip_a VALUES (1); INSERT INTO skip_b VALUES (1)");
    db.source->exec(
        "INSERT INTO legacy_items VALUES (1, 'a', 'new'), (2, 'b', 'old'), (3, 'c', 'x')");
    db.source->exec("DELETE FROM legacy_items WHERE pk1 = 2");
    db.source->exec("UPDATE legacy_items SET status = 'done' WHERE pk1 = 3");
    db.source->exec("INSERT INTO legacy_items VALUES (9, 'marker', 'm')");
    ASSERT_TRUE(
        harness::wait_for([&] { return db.target->count("items WHERE id1 = 9") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(id1 || name || status || seen, ',' ORDER BY "
                               "id1) FROM items"),
              "1aNEWyes,3cDONEyes,9markerMyes");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

// The sandbox: no file system, network, process, environment or timers. A script that
// reaches for them fails to load with the file and line, before anything connects.
TEST(UserscriptSandbox, NoFilesNetworkProcessOrTimers) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"import * as fs from \"fs\";\nconsole.log(fs.readFileSync(\"/etc/passwd\"));\n",
         "cannot find module \"fs\""},
        {"const home = process.env.HOME;\n", "Can't find variable: process"},
        {"fetch(\"http://example.com\");\n", "Can't find variable: fetch"},
        {"setTimeout(() => 1, 10);\n", "Can't find variable: setTimeout"},
        {"const r = require(\"child_process\");\n", "cannot find module \"child_process\""},
    };
    for (size_t i = 0; i < cases.size(); ++i) {
        std::string name = "sandbox" + std::to_string(i) + ".ts";
        std::string script = write_script("us_sandbox", name, cases[i].first);
        auto [status, out] = harness::run_replicator({"userscript", "--check", script}, 30s);
        EXPECT_EQ(status, 2) << out;
        EXPECT_NE(out.find(cases[i].second), std::string::npos) << out;
        EXPECT_NE(out.find(name + ":"), std::string::npos) << out;
    }
}

// MOLT's legacy API v1 as its examples use it: configureSource with dispatch/deletesTo (a row
// filter and a table rename, tables named bare or qualified by the source name),
// configureTable with map and ignore, and getTX().apply in apply. `db`: a PostgreSQL or
// MariaDB source with t1(id, v) and src2(id, note, secret), the target with t1 and
// t2(id, note, secret DEFAULT 'kept'); `schema` its --targetSchema.
template <typename Db>
void dispatch_deletes_to_map_ignore_and_apply(Db& db, const std::string& schema) {
    std::string script = write_script(db.name, "v1.ts",
                                      R"ts(
import * as api from "replicator@v1";
function disp(doc: any, meta: any) {
  if (meta.table === "t1") return Number(doc.v) > 100 ? { ")ts" +
                                          schema + R"ts(.t1": [doc] } : null;
  return { t2: [doc] };
}
api.configureSource(")ts" + schema + R"ts(", { dispatch: disp, deletesTo: disp });
api.configureTable("t2", {
  map: (doc: any) => ({ ...doc, note: String(doc.note).toUpperCase() }),
  ignore: { secret: true },
  apply: async (ops: any[]) => {
    await api.getTX().apply(ops.filter((op) => op.action === "delete" || op.data.id !== "13"));
  },
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log(db.name));
    db.source->exec("INSERT INTO t1 VALUES (1, 50), (2, 150)");
    db.source->exec("INSERT INTO src2 VALUES (11, 'a', 's'), (12, 'b', 's'), (13, 'c', 's')");
    db.source->exec("DELETE FROM src2 WHERE id = 12");
    db.source->exec("INSERT INTO t1 VALUES (3, 500)");  // a marker
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t1 WHERE id = 3") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(db.target->value("SELECT string_agg(id::text, ',' ORDER BY id) FROM t1"), "2,3");
    EXPECT_EQ(db.target->value("SELECT string_agg(id || note || secret, ',' ORDER BY id) FROM t2"),
              "11Akept");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

const char* kV1Target =
    "CREATE TABLE t1(id int PRIMARY KEY, v int);"
    "CREATE TABLE t2(id int PRIMARY KEY, note text, secret text DEFAULT 'kept');";

TEST(UserscriptV1, DispatchDeletesToMapIgnoreAndApply) {
    Databases db("it_usv1",
                 "CREATE TABLE t1(id int PRIMARY KEY, v int);"
                 "CREATE TABLE src2(id int PRIMARY KEY, note text, secret text);");
    db.target->exec(std::string("DROP TABLE t1; DROP TABLE src2;") + kV1Target);
    dispatch_deletes_to_map_ignore_and_apply(db, "it_usv1.public");
}

TEST(UserscriptV1, DispatchDeletesToMapIgnoreAndApplyOnMylogical) {
    harness::MyDatabases db("my_usv1",
                            "CREATE TABLE t1(id INT PRIMARY KEY, v INT);"
                            "CREATE TABLE src2(id INT PRIMARY KEY, note VARCHAR(20), secret "
                            "VARCHAR(20));",
                            kV1Target);
    dispatch_deletes_to_map_ignore_and_apply(db, "my_usv1.public");
}

// v1's configureTable `extras`, `ignore` and `exprs` where the source and target columns
// differ: the columns the target lacks land in its JSONB column as one object; an ignored
// column is never written, whether the target lacks it (otherwise schema drift) or has it (it
// keeps its default); the target computes `name` from the value sent ($0), and writes the
// constant `origin`, a column the source lacks, with every upsert. `db`: a PostgreSQL or
// MariaDB source with items(id, name, colour, size, legacy, note), the target with items(id,
// name, attrs jsonb, note DEFAULT 'kept', origin).
template <typename Db>
void extras_and_ignore(Db& db) {
    std::string script = write_script(db.name, "extras.ts", R"ts(
import * as api from "replicator@v1";
api.configureTable("items", {
  extras: "attrs",
  ignore: { legacy: true, note: true },
  exprs: { name: "upper($0) || '!'", origin: "'replicated'" },
});
)ts");
    Replicator r(db.args({"--userscript", script}), fresh_log(db.name));
    db.source->exec(
        "INSERT INTO items VALUES (1, 'a', 'red', 'XL', 'x', 'n'), "
        "(2, 'b', NULL, 'S \"small\"', 'y', 'n'), (3, 'c', 'green', 'M', 'z', 'n')");
    db.source->exec("UPDATE items SET colour = 'blue', legacy = 'w' WHERE id = 1");
    db.source->exec("DELETE FROM items WHERE id = 3");
    db.source->exec("INSERT INTO items VALUES (4, 'd', 'marker', NULL, NULL, 'n')");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("items WHERE id = 4") == 1; }, 60s))
        << r.log();
    EXPECT_EQ(
        db.target->value("SELECT string_agg(id || ':' || name || ':' || attrs::text, ',' "
                         "ORDER BY id) FROM items"),
        R"(1:A!:{"size": "XL", "colour": "blue"},2:B!:{"size": "S \"small\"", "colour": null},)"
        R"(4:D!:{"size": null, "colour": "marker"})");
    EXPECT_EQ(db.target->value("SELECT string_agg(DISTINCT note, ',') FROM items"), "kept");
    EXPECT_EQ(db.target->value("SELECT string_agg(DISTINCT origin, ',') FROM items"), "replicated");
    r.signal(SIGTERM);
    EXPECT_EQ(r.wait(30s), 0) << r.log();
}

const char* kExtrasTarget =
    "CREATE TABLE items(id int PRIMARY KEY, name text, attrs jsonb, note text DEFAULT 'kept', "
    "origin text)";

TEST(UserscriptV1, ExtrasTakeTheColumnsTheTargetLacksAndIgnoredOnesAreNotWritten) {
    Databases db("it_usv1_extras",
                 "CREATE TABLE items(id int PRIMARY KEY, name text, colour text, size text, "
                 "legacy text, note text)");
    db.target->exec(std::string("DROP TABLE items;") + kExtrasTarget);
    extras_and_ignore(db);
}

TEST(UserscriptV1, ExtrasAndIgnoreOnMylogical) {
    harness::MyDatabases db("my_usv1_extras",
                            "CREATE TABLE items(id INT PRIMARY KEY, name VARCHAR(20), colour "
                            "VARCHAR(20), size VARCHAR(20), legacy VARCHAR(20), note VARCHAR(20))",
                            kExtrasTarget);
    extras_and_ignore(db);
}

// exprs on a key column would write keys that the source's deletes and updates never find:
// the first row of the table stops the replicator with the column named, before anything of
// it is written.
TEST(UserscriptV1, ExprsOnAKeyColumnStopWithTheColumnNamed) {
    Databases db("it_usv1_exprs_key", "CREATE TABLE t(id int PRIMARY KEY, v text)");
    std::string script = write_script(db.name, "key.ts", R"ts(
import * as api from "replicator@v1";
api.configureTable("t", { exprs: { id: "$0 + 1000" } });
)ts");
    db.source->exec("INSERT INTO t VALUES (1, 'a')");
    auto [status, out] = harness::run_replicator(db.args({"--userscript", script}), 60s);
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("exprs entry for primary key column \"id\" of target table"),
              std::string::npos)
        << out;
    EXPECT_EQ(db.target->count("t"), 0);
}

// v1 options that have no meaning for logical replication are refused at start, with the
// reason, never ignored silently.
TEST(UserscriptV1, OptionsWithoutMeaningHereAreRefusedAtStart) {
    Databases db("it_usv1_bad", "CREATE TABLE t(id int PRIMARY KEY, ts timestamptz)");
    auto refused = [&](const std::string& name, const std::string& body) {
        std::string script =
            write_script("usv1_bad", name, "import * as api from \"cdc-sink@v1\";\n" + body);
        return harness::run_replicator(db.args({"--userscript", script}), 60s);
    };
    auto [status, out] = refused("cas.ts", "api.configureTable(\"t\", { cas: [\"ts\"] });\n");
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("cas.ts:2"), std::string::npos) << out;
    EXPECT_NE(out.find("configureTable(\"t\"): cas (compare-and-set"), std::string::npos) << out;
    std::tie(status, out) = refused("opts.ts", "api.setOptions({ parallelism: \"4\" });\n");
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("setOptions(--parallelism)"), std::string::npos) << out;
    std::tie(status, out) =
        refused("exprs.ts", "api.configureTable(\"t\", { exprs: [\"$0\"] });\n");
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("exprs must map column names to SQL expressions"), std::string::npos) << out;
}

}  // namespace
