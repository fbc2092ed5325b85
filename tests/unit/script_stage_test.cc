// The userscript stage with a real engine and no database: what the handlers see, and what
// their answers turn into.

#include "script/script_stage.h"

#include "base/error.h"

#include "script/userscript.h"
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace rep::script {
namespace {

std::filesystem::path write_script(const std::string& name, const std::string& text) {
    auto dir =
        std::filesystem::temp_directory_path() / ("rep_script_stage_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / name) << text;
    return dir / name;
}

// One layout, as a source keeps one Relation per announced layout.
std::shared_ptr<const Relation> orders() {
    static const auto rel = [] {
        auto r = std::make_shared<Relation>();
        r->id = 1;
        r->schema = "public";
        r->name = "orders";
        r->columns = {{"id", 23, -1, true}, {"v", 25, -1, false}, {"note", 25, -1, false}};
        return std::shared_ptr<const Relation>(std::move(r));
    }();
    return rel;
}

Mutation upsert(const std::string& id, Datum v, Datum note = Datum::null()) {
    Mutation m;
    m.relation = orders();
    m.values = {Datum::value(id), std::move(v), std::move(note)};
    return m;
}

// What the stage hands on, indexed like its rows (most tests tag every row change 0).
struct Rows : source::StagedRows {
    Mutation& operator[](size_t i) { return rows.at(i); }
};

// Hands one row change to the stage and flushes, as the stage thread does at the end of
// what it took from the queue.
void run(ScriptStage& stage, Mutation m, Rows& out) {
    stage.process(std::move(m), 0, out);
    stage.flush(out);
}

std::vector<std::string> names(const Mutation& m) {
    std::vector<std::string> out;
    for (const SourceColumn& c : m.relation->columns) {
        out.push_back(c.name);
    }
    return out;
}

TEST(ScriptStage, AnswersDropReshapeAndRoute) {
    Userscript us({write_script("route.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any, meta: any) => {
    if (meta.schema !== "db.public" || meta.table !== "orders") throw new Error("bad meta");
    if (row.v === "drop") return null;
    if (row.v === "route") return { a: [row], b: [{ id: row.id + "0", copy: true }] };
    const { note, ...rest } = row;
    return { ...rest, n: 5, o: { k: [1, "x"] }, u: undefined };
  },
  onRowDelete: (row: any) => row,
});
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    run(stage, upsert("1", Datum::value("drop")), out);
    EXPECT_TRUE(out.empty());

    run(stage, upsert("2", Datum::value("keep")), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].relation->name, "orders");
    EXPECT_EQ(names(out[0]), (std::vector<std::string>{"id", "v", "n", "o", "u"}));
    EXPECT_EQ(out[0].values[0].text, "2");
    EXPECT_EQ(out[0].values[2].text, "5");                 // numbers as String()
    EXPECT_EQ(out[0].values[3].text, R"({"k":[1,"x"]})");  // objects as JSON
    EXPECT_TRUE(out[0].values[4].absent());                // undefined: not sent
    EXPECT_EQ(out[0].relation->replica_identity, kScriptedIdentity);

    Rows again;
    run(stage, upsert("3", Datum::value("keep")), again);
    EXPECT_EQ(again[0].relation, out[0].relation);  // one layout, one relation

    out.clear();
    run(stage, upsert("4", Datum::value("route")), out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].relation->name, "a");
    EXPECT_EQ(out[1].relation->name, "b");
    EXPECT_EQ(out[1].values[0].text, "40");
    EXPECT_EQ(out[1].values[1].text, "true");
}

TEST(ScriptStage, HandlersSeeStringsNullsAndOnlyWhatTheSourceSent) {
    Userscript us({write_script("seen.js", R"(
const api = require("replicator@v2");
api.configureTargetSchema("db.public", {
  onRowUpsert: (row) => ({ id: row.id, v: JSON.stringify(row) }),
  onRowDelete: (row) => ({ id: row.id, note: JSON.stringify(row) }),
});
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    run(stage, upsert("7", Datum::null(), Datum{}), out);  // note: an unchanged TOAST value
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].values[1].text, R"({"id":"7","v":null})");

    // A delete sees the key only, even when the source sent more.
    Mutation del = upsert("8", Datum::value("x"), Datum::value("y"));
    del.kind = MutationKind::kDelete;
    out.clear();
    run(stage, del, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, MutationKind::kDelete);
    EXPECT_EQ(out[0].values[1].text, R"({"id":"8"})");
}

// A column named "__proto__" is a property of the row like any other: an assignment would
// have set the row's prototype and dropped the value.
TEST(ScriptStage, AColumnNamedProtoIsAnOrdinaryProperty) {
    Userscript us({write_script("proto.js", R"(
const api = require("replicator@v2");
// What a script does to the built-ins does not reach the rows' making.
Object.defineProperty = () => { throw new Error("replaced"); };
Object.prototype.get = () => "polluted";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row) => ({ ...row, seen: Object.keys(row).join() + "=" + row["__proto__"] +
                           "/" + (Object.getPrototypeOf(row) === Object.prototype) }),
  onRowDelete: (row) => row,
});
)")});
    ScriptStage stage(us, "db.public");
    auto rel = std::make_shared<Relation>();
    rel->id = 7;
    rel->schema = "public";
    rel->name = "odd";
    rel->columns = {{"id", 23, -1, true}, {"__proto__", 25, -1, false}};
    Mutation m;
    m.relation = rel;
    m.values = {Datum::value("1"), Datum::value("kept")};
    Rows out;
    run(stage, m, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(names(out[0]), (std::vector<std::string>{"id", "__proto__", "seen"}));
    EXPECT_EQ(out[0].values[1].text, "kept");
    EXPECT_EQ(out[0].values[2].text, "id,__proto__=kept/true");
}

TEST(ScriptStage, AKeyChangeIsADeleteThenAnUpsert) {
    Userscript us({write_script("key.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => ({ order_id: row.id, v: row.v }),
  onRowDelete: (row: any) => ({ order_id: row.id }),
});
)")});
    ScriptStage stage(us, "db.public");
    Mutation m = upsert("2", Datum::value("new"));
    m.old_values = {Datum::value("1"), Datum{}, Datum{}};
    Rows out;
    run(stage, m, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].kind, MutationKind::kDelete);
    EXPECT_EQ(out[0].values[0].text, "1");
    EXPECT_EQ(out[1].kind, MutationKind::kUpsert);
    EXPECT_EQ(out[1].values[0].text, "2");
    EXPECT_TRUE(out[1].old_values.empty());

    // The same key: one upsert.
    m.old_values = {Datum::value("2"), Datum{}, Datum{}};
    out.clear();
    run(stage, m, out);
    ASSERT_EQ(out.size(), 1u);

    // The new row is inserted, so it must be whole: a value the source did not send (an
    // unchanged TOASTed one) is the old row's when that came whole (REPLICA IDENTITY FULL)...
    m = upsert("3", Datum{});
    m.old_values = {Datum::value("2"), Datum::value("kept"), Datum::null()};
    out.clear();
    run(stage, m, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].values[1].text, "kept");
    // ...and otherwise the answers, one delete and one row of one table, go on as one change
    // of key (a move on the target, which keeps the value), the old key under the new row's
    // column names.
    m.old_values = {Datum::value("2"), Datum{}, Datum{}};
    out.clear();
    run(stage, m, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, MutationKind::kUpsert);
    EXPECT_EQ(names(out[0]), (std::vector<std::string>{"order_id", "v"}));
    EXPECT_EQ(out[0].values[0].text, "3");
    EXPECT_TRUE(out[0].values[1].absent());
    ASSERT_EQ(out[0].old_values.size(), 2u);
    EXPECT_EQ(out[0].old_values[0].text, "2");
    EXPECT_TRUE(out[0].old_values[1].absent());
}

// A key change whose new row lacks a value, answered otherwise than by one delete and one row
// of one table (here the delete is dropped: protected deletes), cannot be moved: it stops
// replication rather than insert the row with NULL there.
TEST(ScriptStage, AKeyChangeLackingAValueThatCannotBeMovedStops) {
    Userscript us({write_script("keep.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", { onRowUpsert: (row: any) => row, onRowDelete: () => null });
)")});
    ScriptStage stage(us, "db.public");
    Mutation m = upsert("3", Datum{});
    m.old_values = {Datum::value("2"), Datum{}, Datum{}};
    Rows out;
    try {
        run(stage, m, out);
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("source table public.orders changed the row's key (new row id=3) "
                            "without sending column \"v\""),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("ALTER TABLE public.orders REPLICA IDENTITY FULL"), std::string::npos)
            << what;
    }
    EXPECT_TRUE(out.empty());
}

// Key changes lacking a value amid other row changes of one batch: each pairs with its own
// delete, the rows around them go on as they are.
TEST(ScriptStage, KeyChangesInABatchPairWithTheirOwnDeletes) {
    Userscript us({write_script("pairs.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => ({ order_id: row.id, v: row.v }),
  onRowDelete: (row: any) => ({ order_id: row.id }),
});
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    auto key_change = [](const std::string& from, const std::string& to) {
        Mutation m = upsert(to, Datum{});
        m.old_values = {Datum::value(from), Datum{}, Datum{}};
        return m;
    };
    stage.process(upsert("1", Datum::value("a")), 0, out);
    stage.process(key_change("2", "3"), 0, out);
    stage.process(key_change("4", "5"), 0, out);
    stage.process(upsert("6", Datum::value("b")), 0, out);
    stage.flush(out);
    ASSERT_EQ(out.size(), 4u);
    std::vector<std::string> got;
    for (size_t i = 0; i < out.size(); ++i) {
        got.push_back(out[i].values[0].text + "<" +
                      (out[i].old_values.empty() ? "" : out[i].old_values[0].text));
        EXPECT_EQ(out[i].kind, MutationKind::kUpsert);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"1<", "3<2", "5<4", "6<"}));
}

// Answered with rows of two tables, or fanned out, a key change lacking a value cannot be one
// move: it stops.
TEST(ScriptStage, AKeyChangeLackingAValueRoutedApartOrFannedOutStops) {
    for (const char* upsert_answer :
         {"({ b: [{ order_id: row.id, v: row.v }] })",
          "({ a: [{ order_id: row.id }], c: [{ order_id: row.id }] })"}) {
        Userscript us({write_script("apart.ts", std::string(R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => )") + upsert_answer + R"(,
  onRowDelete: (row: any) => ({ a: [{ order_id: row.id }] }),
});
)")});
        ScriptStage stage(us, "db.public");
        Mutation m = upsert("3", Datum{});
        m.old_values = {Datum::value("2"), Datum{}, Datum{}};
        Rows out;
        EXPECT_THROW(run(stage, m, out), Error) << upsert_answer;
        EXPECT_TRUE(out.empty()) << upsert_answer;
    }
}

// A string cut inside a character (half of a UTF-16 surrogate pair) has no UTF-8 form: it
// stops replication instead of being written cut short where the engine's conversion stops.
TEST(ScriptStage, HalfACharacterIsRefused) {
    Userscript us({write_script("half.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => ({ ...row, v: row.v === "cut" ? "ok \u{1F600}".slice(0, 4) : row.v + "\u{1F600}" }),
  onRowDelete: (row: any) => row,
});
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    run(stage, upsert("1", Datum::value("whole ")), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].values[1].text, "whole \xf0\x9f\x98\x80");
    out.clear();
    try {
        run(stage, upsert("2", Datum::value("cut")), out);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("half of a character"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(out.empty());
}

// Types removed before the throw on its line do not move the column the error names: the
// same handler as JavaScript and as TypeScript (": number" before it) point at the same
// place in their files, 8 characters apart.
TEST(ScriptStage, ErrorColumnsAreTheUsersOwn) {
    auto column_of = [](const std::string& file, const std::string& handler) {
        Userscript us({write_script(file,
                                    "import * as api from \"replicator@v2\";\n"
                                    "api.configureTargetSchema(\"db.public\", {\n"
                                    "  onRowUpsert: " +
                                        handler +
                                        ",\n"
                                        "  onRowDelete: (row) => row,\n"
                                        "});\n")});
        ScriptStage stage(us, "db.public");
        Rows out;
        try {
            run(stage, upsert("5", Datum::value("luck")), out);
        } catch (const Error& e) {
            std::string what = e.what();
            size_t at = what.find(file + ":3:");
            EXPECT_NE(at, std::string::npos) << what;
            return at == std::string::npos ? -1 : std::stoi(what.substr(at + file.size() + 3));
        }
        ADD_FAILURE() << "no error";
        return -1;
    };
    int js = column_of("col.js", "(row) => { const n = 1; throw new Error(\"no \" + n); }");
    int ts =
        column_of("col.ts", "(row: any) => { const n: number = 1; throw new Error(\"no \" + n); }");
    EXPECT_GT(js, 0);
    EXPECT_EQ(ts, js + 13) << "\": any\" and \": number\" come before the throw";
}

TEST(ScriptStage, AThrowingHandlerNamesTheScriptLineTableAndKey) {
    Userscript us({write_script("throw.ts", R"(import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => {
    throw new Error("no " + row.v);
  },
  onRowDelete: (row: any) => 42,
});
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    try {
        run(stage, upsert("5", Datum::value("luck")), out);
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("throw.ts:4:"), std::string::npos) << what;
        EXPECT_NE(what.find("no luck"), std::string::npos) << what;
        EXPECT_NE(what.find("public.orders (row id=5)"), std::string::npos) << what;
        EXPECT_FALSE(e.retryable());
    }
    Mutation del = upsert("6", Datum::value("x"));
    del.kind = MutationKind::kDelete;
    try {
        run(stage, del, out);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("onRowDelete returned a number"), std::string::npos)
            << e.what();
    }
}

// Rows cross into the engine in batches: they come out in order once the batch runs, values
// of any text survive the trip both ways, and a row that fails is the one the error names.
TEST(ScriptStage, BatchesKeepOrderTextAndTheFailingRow) {
    Userscript us({write_script("batch.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => {
    if (row.v === "boom") throw new Error("boom at " + row.id);
    if (row.v === "skip") return null;
    return { ...row, note: row.v + "!" };
  },
  onRowDelete: (row: any) => row,
});
)")});
    ScriptStage stage(us, "db.public", nullptr, 4);
    // Escapes inside and across eight-byte words, and long runs without any.
    const std::string tricky = "q\"b\\s\nl\x01c é 😀 \u2028" + std::string(13, 'x') + "\"" +
                               std::string(9, 'y') + "\x1f\\" + std::string(16, 'z');
    Rows out;
    // Tagged as the stage thread tags them: by the queue item (transaction) they came in.
    stage.process(upsert("1", Datum::value(tricky)), 10, out);
    stage.process(upsert("2", Datum::value("skip")), 11, out);
    stage.process(upsert("3", Datum::value("c")), 11, out);
    EXPECT_TRUE(out.empty());  // held back until the batch is full or flushed
    stage.process(upsert("4", Datum::value("d")), 12, out);
    ASSERT_EQ(out.size(), 3u);                                 // a full batch runs at once
    EXPECT_EQ(out.tags, (std::vector<uint32_t>{10, 11, 12}));  // each row keeps its own
    EXPECT_EQ(out[0].values[0].text, "1");
    EXPECT_EQ(out[0].values[1].text, tricky);        // returned unchanged: the source's text
    EXPECT_EQ(out[0].values[2].text, tricky + "!");  // changed: through JSON both ways
    EXPECT_EQ(out[1].values[0].text, "3");
    EXPECT_EQ(out[2].values[0].text, "4");

    out.clear();
    stage.process(upsert("5", Datum::value("e")), 0, out);
    stage.process(upsert("6", Datum::value("boom")), 0, out);
    try {
        stage.flush(out);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("boom at 6"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("(row id=6)"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(out.empty());  // nothing of the failed batch
}

// A value that is not UTF-8 cannot enter the engine: the error says so and names the row
// and column it is in, not a row the handler never saw.
TEST(ScriptStage, TextThatIsNotUtf8IsRefused) {
    Userscript us({write_script("utf.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", { onRowUpsert: (row: any) => row, onRowDelete: (row: any) => row });
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    try {
        stage.process(upsert("2", Datum::value("fine \xc3\xa9")), 0, out);
        stage.process(upsert("3", Datum::value("v"), Datum::value("bad \xff byte")), 0, out);
        stage.flush(out);
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("could not be handed to the engine"), std::string::npos) << what;
        EXPECT_NE(what.find("column \"note\" of source table public.orders (row id=3)"),
                  std::string::npos)
            << what;
    }
    EXPECT_TRUE(out.empty());  // nothing of the batch
    // The stage goes on afresh: a value with a NUL (MySQL text may hold one) crosses whole.
    run(stage, upsert("4", Datum::value(std::string("a\0b", 3))), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].values[1].text, std::string("a\0b", 3));
}

// A script whose upsert handler runs for row.v milliseconds ("Infinity": for ever), each
// call limited to `limit`.
UserscriptOptions busy_script(const std::string& file, std::chrono::milliseconds limit) {
    UserscriptOptions options{write_script(file, R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => {
    const until = Date.now() + Number(row.v);
    while (Date.now() < until) {}
    return row;
  },
  onRowDelete: (row: any) => row,
});
)")};
    options.call_limit = limit;
    return options;
}

// The time limit applies to each row, not to the batch: slow rows that together run far
// past it all go through.
TEST(ScriptStage, TheTimeLimitAppliesPerRowNotPerBatch) {
    Userscript us(busy_script("slow.ts", std::chrono::milliseconds(200)));
    ScriptStage stage(us, "db.public", nullptr, 16);
    Rows out;
    for (int i = 1; i <= 10; ++i) {  // 300 ms in all, in one batch
        stage.process(upsert(std::to_string(i), Datum::value("30")), 0, out);
    }
    stage.flush(out);
    ASSERT_EQ(out.size(), 10u);
    for (int i = 1; i <= 10; ++i) {
        EXPECT_EQ(out[i - 1].values[0].text, std::to_string(i));
    }
}

// A row that runs past the time limit is stopped and named, however long the rows before it
// in its batch ran: the limit counts from the row's own start.
TEST(ScriptStage, ARowPastTheTimeLimitIsStoppedAndNamed) {
    Userscript us(busy_script("stuck.ts", std::chrono::milliseconds(200)));
    ScriptStage stage(us, "db.public", nullptr, 16);
    Rows out;
    for (int i = 1; i <= 4; ++i) {  // 480 ms in all, each row well inside the limit
        stage.process(upsert(std::to_string(i), Datum::value("120")), 0, out);
    }
    stage.process(upsert("5", Datum::value("Infinity")), 0, out);
    auto started = std::chrono::steady_clock::now();
    try {
        stage.flush(out);
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("longer than 200 ms"), std::string::npos) << what;
        EXPECT_NE(what.find("(row id=5)"), std::string::npos) << what;
    }
    // The four rows before it, and the stuck one for at least the limit.
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(680));
    EXPECT_TRUE(out.empty());  // nothing of the failed batch
}

// The limit counts from a row's start in every batch: a slow last row after quick ones is
// not charged for them, even when its index is the one the batch before ended on (the
// watchdog looks for a change of the row in progress).
TEST(ScriptStage, ASlowRowAfterQuickOnesKeepsTheWholeLimit) {
    // The watchdog looks every 100 ms.
    Userscript us(busy_script("late.ts", std::chrono::milliseconds(400)));
    ScriptStage stage(us, "db.public", nullptr, 4);
    Rows out;
    for (int i = 1; i <= 4; ++i) {  // a first batch, ending on row index 3
        stage.process(upsert(std::to_string(i), Datum::value("0")), 0, out);
    }
    // 75 ms of quick rows, then one of 360 ms: 435 ms in the call, 360 in the row.
    for (const char* ms : {"25", "25", "25", "360"}) {
        stage.process(upsert("9", Datum::value(ms)), 0, out);
    }
    stage.flush(out);
    EXPECT_EQ(out.size(), 8u);
}

// A handler that hoards memory is stopped once the engine's heap passes the limit, with an
// error that says so and names the row.
TEST(ScriptStage, AHandlerThatHoardsMemoryIsStopped) {
    UserscriptOptions options{write_script("hog.ts", R"(
import * as api from "replicator@v2";
const hoard: any[] = [];
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any) => { for (;;) hoard.push(new Array(10000).fill(row.id + "x")); },
  onRowDelete: (row: any) => row,
});
)")};
    options.memory_limit = size_t{200} << 20;  // more than 100 ms of hoarding: several checks
    Userscript us(options);
    ScriptStage stage(us, "db.public");
    Rows out;
    try {
        run(stage, upsert("9", Datum::value("v")), out);
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("heap grew past 200 MiB, the memory limit of one engine"),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("(row id=9)"), std::string::npos) << what;
    }
}

// Oracle's layouts carry Oracle's names beside the target's: the script sees Oracle's (as
// MOLT's Oracle scripts do), and the names it gives back are folded for the target.
TEST(ScriptStage, OracleScriptsSeeOraclesNamesAndGiveBackFoldedOnes) {
    auto rel = std::make_shared<Relation>();
    rel->id = 2;
    rel->schema = "app";
    rel->name = "orders";
    rel->source_schema = "APP";
    rel->source_name = "ORDERS";
    rel->columns = {{"id", 0, -1, true, "ID"}, {"camelCase", 0, -1, false, "camelCase"}};
    std::shared_ptr<const Relation> orders = rel;
    Userscript us({write_script("oracle.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("db.public", {
  onRowUpsert: (row: any, meta: any) => {
    if (meta.table !== "ORDERS" || meta.sourceSchema !== "APP") throw new Error("meta " + meta.table);
    if (row.ID === "2") return { ORDERS_ARCHIVE: [{ ID: row.ID, NOTE: "old" }] };
    return { ...row, ADDED_AT: "now" };
  },
  onRowDelete: (row: any) => row,
});
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    Mutation m;
    m.relation = orders;
    m.values = {Datum::value("1"), Datum::value("x")};
    run(stage, m, out);
    m.values = {Datum::value("2"), Datum::value("y")};
    run(stage, m, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].relation->name, "orders");
    EXPECT_EQ(names(out[0]), (std::vector<std::string>{"id", "camelCase", "added_at"}));
    EXPECT_TRUE(out[0].relation->columns[0].is_key);
    EXPECT_EQ(out[0].values[0].text, "1");
    EXPECT_EQ(out[1].relation->name, "orders_archive");
    EXPECT_EQ(names(out[1]), (std::vector<std::string>{"id", "note"}));
}

TEST(ScriptStage, OtherSchemasPassThrough) {
    Userscript us({write_script("other.ts", R"(
import * as api from "replicator@v2";
api.configureTargetSchema("elsewhere.public", { onRowUpsert: () => null, onRowDelete: () => null });
)")});
    ScriptStage stage(us, "db.public");
    Rows out;
    run(stage, upsert("1", Datum::value("x")), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].relation->name, "orders");
    EXPECT_EQ(us.configured_schemas(), (std::vector<std::string>{"elsewhere.public"}));
}

}  // namespace
}  // namespace rep::script
