// The userscript stage alone, no database: rows of bench/userscript.sh's shape (id bigint,
// n int, payload text of 200 bytes) through the schema-level handlers of
// bench/userscript_rename.ts (a table filter plus one column rename), in batches as the
// pipeline hands them over. Per-row time is the stage's whole cost: JSON in, the engine's
// object building and the handler, the answer back into Mutations.
//
//   cmake --build build-bench --target script_bench && build-bench/bench/script_bench
//
// SCRIPT_BENCH_TXN_ROWS (10): row changes per flush, i.e. per call into the engine (the
// pipeline's batches span transactions, up to ScriptStage::kBatchRows). SCRIPT_BENCH_JS: a
// script body instead of the rename ("SCHEMA" is replaced), to take the cost apart.
// SCRIPT_BENCH_NO_LIMITS: no time or memory limit (the engine's watchdog off).

#include "script/script_stage.h"
#include "script/userscript.h"
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace {

using rep::Datum;
using rep::Mutation;
using rep::MutationKind;
using rep::Relation;

std::filesystem::path bench_script(const char* schema) {
    std::string s;
    if (const char* inline_script = getenv("SCRIPT_BENCH_JS")) {
        s = std::string("import * as api from \"replicator@v2\";\n") + inline_script;
    } else {
        std::ifstream in(std::string(REP_BENCH_DIR) + "/userscript_rename.ts");
        std::stringstream text;
        text << in.rdbuf();
        s = text.str();
    }
    s.replace(s.find("SCHEMA"), 6, schema);
    auto path = std::filesystem::temp_directory_path() /
                ("rep_script_bench_" + std::to_string(getpid()) + ".ts");
    std::ofstream(path) << s;
    return path;
}

std::vector<std::shared_ptr<const Relation>> tables() {
    std::vector<std::shared_ptr<const Relation>> out;
    for (int i = 0; i < 10; ++i) {
        auto r = std::make_shared<Relation>();
        r->id = static_cast<uint32_t>(i + 1);
        r->schema = "public";
        r->name = "t" + std::to_string(i);
        r->columns = {{"id", 20, -1, true}, {"n", 23, -1, false}, {"payload", 25, -1, false}};
        out.push_back(std::move(r));
    }
    return out;
}

// `deletes` in 100: the share of row changes that are deletes (key only).
void run(benchmark::State& state, int deletes) {
    auto path = bench_script("db.public");
    rep::script::UserscriptOptions options;
    options.path = path;
    if (getenv("SCRIPT_BENCH_NO_LIMITS") != nullptr) {
        options.call_limit = std::chrono::milliseconds(0);
        options.memory_limit = 0;
    }
    rep::script::Userscript script(std::move(options));
    rep::script::ScriptStage stage(script, "db.public");
    auto rels = tables();
    std::string payload;
    for (int i = 0; payload.size() < 200; ++i) {
        payload += "0123456789abcdef"[(i * 7) % 16];
    }
    rep::source::StagedRows out;
    uint64_t n = 0;
    // Rows per source transaction: the stage flushes its batch at each one's end.
    const char* txn = getenv("SCRIPT_BENCH_TXN_ROWS");
    const uint64_t txn_rows = txn != nullptr ? std::stoull(txn) : 10;
    for (auto _ : state) {
        Mutation m;
        m.relation = rels[n % rels.size()];
        if (static_cast<int>(n % 100) < deletes) {
            m.kind = MutationKind::kDelete;
            m.values = {Datum::value(std::to_string(1000000 + n)), Datum{}, Datum{}};
        } else {
            m.values = {Datum::value(std::to_string(1000000 + n)), Datum::value("0"),
                        Datum::value(payload)};
        }
        stage.process(std::move(m), 0, out);
        if (++n % txn_rows == 0) {
            stage.flush(out);
        }
        if (out.size() > 4096) {
            out.clear();
        }
    }
    stage.flush(out);
    std::filesystem::remove(path);
}

void BM_StageUpserts(benchmark::State& state) {
    run(state, 0);
}
void BM_StageMixed(benchmark::State& state) {
    run(state, 15);
}
BENCHMARK(BM_StageUpserts);
BENCHMARK(BM_StageMixed);

}  // namespace

BENCHMARK_MAIN();
