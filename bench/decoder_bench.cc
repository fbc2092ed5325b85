// Decoder throughput on captured streams, one core, no I/O:
//  - pgoutput: PgOutputDecoder::decode + to_mutations over
//  tests/unit/testdata/pgoutput_v2_streaming.bin
//  - binlog:   BinlogDecoder::decode over tests/unit/testdata/mariadb_10_11.bin (real MariaDB
//              10.11 events: every column type, inserts, updates, deletes)
// Run with scripts/bench.sh; items/s is messages (pgoutput) or events (binlog) per second,
// rows/s the row images produced per second.

#include "source/mysql/binlog_event.h"
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

}  // namespace

BENCHMARK_MAIN();
