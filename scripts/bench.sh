#!/usr/bin/env bash
# Builds and runs the benchmarks (not part of the test run): decoder throughput on captured
# pgoutput and binlog streams, and the userscript stage alone (bench/script_bench.cc), one
# core.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DREP_BUILD_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target decoder_bench script_bench
build-bench/bench/decoder_bench --benchmark_min_time=1 "$@"
for rows in 10 256; do  # rows per call into the engine: one transaction, or a full batch
    echo "userscript stage, $rows row changes per batch"
    SCRIPT_BENCH_TXN_ROWS=$rows build-bench/bench/script_bench "$@"
done
