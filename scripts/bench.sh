#!/usr/bin/env bash
# Builds and runs the benchmarks (not part of the test run): decoder throughput on captured
# pgoutput and binlog streams, one core.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DREP_BUILD_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target decoder_bench
build-bench/bench/decoder_bench --benchmark_min_time=1 "$@"
