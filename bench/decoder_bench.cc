// Decoder throughput on captured streams, one core, no I/O:
//  - pgoutput: PgOutputDecoder::decode + to_mutations over
//  tests/unit/testdata/pgoutput_v2_streaming.bin
//  - binlog:   BinlogDecoder::decode over tests/unit/testdata/mariadb_10_11.bin (real MariaDB
//              10.11 events: every column type, inserts, updates, deletes)
//  - SQL_REDO: parse_sql_redo (and, in the second, to_mutation) over LogMiner statements of
//              an 8-column table in the documented rendering (inserts, updates, deletes, with
//              dates, timestamps, doubled quotes and NULLs); issue goal: 500k rows/s per core
// Run with scripts/bench.sh; items/s is messages (pgoutput), events (binlog) or statements
// (SQL_REDO) per second, rows/s the row images produced per second.

#include "source/mysql/binlog_event.h"
#include "source/oracle/redo_mutation.h"
#include "source/oracle/sql_redo.h"
#include "source/postgres/pgoutput_decoder.h"

#include <benchmark/benchmark.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::vector<std::string> read_capture(const std::string& name) {
    std::ifstream in(std::string(REP_TESTDATA_DIR) + "/" + name, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos + 4 <= data.size()) {
        uint32_t n = 0;
        for (size_t i = 0; i < 4; ++i) {
            n = (n << 8) | static_cast<uint8_t>(data[pos + i]);
        }
        pos += 4;
        out.push_back(data.substr(pos, n));
        pos += n;
    }
    return out;
}

void BM_PgOutputDecode(benchmark::State& state) {
    auto messages = read_capture("pgoutput_v2_streaming.bin");
    int64_t rows = 0;
    for (auto _ : state) {
        rep::pg::PgOutputDecoder decoder;
        std::vector<rep::Mutation> out;
        for (const auto& m : messages) {
            auto msg = decoder.decode(m);
            if (auto* c = std::get_if<rep::pg::ChangeMsg>(&msg)) {
                rep::pg::to_mutations(std::move(*c), out);
            }
        }
        rows += static_cast<int64_t>(out.size());
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(messages.size()));
    state.counters["rows/s"] =
        benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PgOutputDecode);

void BM_BinlogDecode(benchmark::State& state) {
    auto events = read_capture("mariadb_10_11.bin");
    int64_t rows = 0;
    for (auto _ : state) {
        rep::mysql::BinlogDecoder decoder;
        for (const auto& e : events) {
            auto d = decoder.decode(e);
            if (auto* r = std::get_if<rep::mysql::RowsEvent>(&d.event)) {
                rows += static_cast<int64_t>(r->after.size() + r->before.size());
            }
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
    state.counters["rows/s"] =
        benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BinlogDecode);

// A day of an ORDERS table as LogMiner renders it (NLS pinned): half inserts, a third
// updates of two columns, the rest deletes by the whole before-image.
std::vector<std::string> sql_redo_statements() {
    std::vector<std::string> out;
    for (int i = 0; i < 1000; ++i) {
        std::string id = std::to_string(100000 + i);
        std::string note = i % 7 == 0 ? "O''Brien''s order" : "standard delivery, ring twice";
        switch (i % 6) {
            case 0:
            case 1:
            case 2:
                out.push_back(
                    "insert into \"APP\".\"ORDERS\"(\"ID\",\"CUSTOMER_ID\",\"STATUS\",\"AMOUNT\","
                    "\"CURRENCY\",\"NOTE\",\"CREATED\",\"UPDATED\") values ('" +
                    id + "','" + std::to_string(i * 37 % 5000) + "','NEW','" +
                    std::to_string(i % 997) + ".25','EUR','" + note +
                    "',TO_DATE('2026-11-30 10:" + std::to_string(10 + i % 50) +
                    ":00', 'YYYY-MM-DD HH24:MI:SS'),TO_TIMESTAMP('2026-11-30 "
                    "10:15:00.123456000'));");
                break;
            case 3:
            case 4:
                out.push_back(
                    "update \"APP\".\"ORDERS\" set \"STATUS\" = 'PAID', \"UPDATED\" = "
                    "TO_TIMESTAMP('2026-11-30 11:00:00.000001000') where \"ID\" = '" +
                    id +
                    "' and \"STATUS\" = 'NEW' and \"UPDATED\" IS NULL and ROWID = "
                    "'AAAR3sAAEAAAACXAAA';");
                break;
            default:
                out.push_back(
                    "delete from \"APP\".\"ORDERS\" where \"ID\" = '" + id +
                    "' and \"CUSTOMER_ID\" = '42' and \"STATUS\" = 'PAID' and \"AMOUNT\" = "
                    "'10.25' and \"CURRENCY\" = 'EUR' and \"NOTE\" = '" +
                    note +
                    "' and \"CREATED\" = TO_DATE('2026-11-30 10:10:00', "
                    "'YYYY-MM-DD HH24:MI:SS') and \"UPDATED\" IS NULL;");
        }
    }
    return out;
}

void BM_SqlRedoParse(benchmark::State& state) {
    auto statements = sql_redo_statements();
    size_t columns = 0;
    for (auto _ : state) {
        for (const auto& s : statements) {
            rep::oracle::RedoStatement st = rep::oracle::parse_sql_redo(s);
            columns += st.values.size() + st.where.size();
        }
    }
    benchmark::DoNotOptimize(columns);
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(statements.size()));
    state.counters["rows/s"] = benchmark::Counter(
        static_cast<double>(state.iterations() * statements.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SqlRedoParse);

void BM_SqlRedoToMutation(benchmark::State& state) {
    auto statements = sql_redo_statements();
    rep::oracle::OracleTable table = rep::oracle::make_table("APP", "ORDERS",
                                                             {{"ID", "NUMBER", true},
                                                              {"CUSTOMER_ID", "NUMBER", false},
                                                              {"STATUS", "VARCHAR2", false},
                                                              {"AMOUNT", "NUMBER", false},
                                                              {"CURRENCY", "CHAR", false},
                                                              {"NOTE", "VARCHAR2", false},
                                                              {"CREATED", "DATE", false},
                                                              {"UPDATED", "TIMESTAMP(6)", false}});
    rep::oracle::RedoOrigin origin{4711, "0A001B00C0000000"};
    for (auto _ : state) {
        for (const auto& s : statements) {
            rep::Mutation m =
                rep::oracle::to_mutation(rep::oracle::parse_sql_redo(s), table, origin);
            benchmark::DoNotOptimize(m);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(statements.size()));
    state.counters["rows/s"] = benchmark::Counter(
        static_cast<double>(state.iterations() * statements.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SqlRedoToMutation);

}  // namespace

BENCHMARK_MAIN();
