#!/usr/bin/env bash
# Catch-up of one backlog by several replicator settings side by side, in one run: how
# --parallelism and the target's distance change the rate. For choosing apply defaults
# (docs/architecture.md §2.8, "Adaptive parallelism"); bench/catchup.sh is the full report.
#
#   BENCH_MODES="p16 p16f p1 p2 p4@10 p16@10 p16f@10" bench/parallelism.sh
#   BENCH_VARIANT=mixed BENCH_CHANGES=300000 BENCH_EXTRA="--fixedParallelism" bench/parallelism.sh
#
# A mode is pN (--parallelism N, the target local) or pN@D (the target D ms away each way
# through bench/delay_proxy; D is 2.5 or 10); pNf or pNf@D adds --fixedParallelism (all N
# connections take independent groups, instead of a number adapted to the commit rate). The backlog is bench/catchup.sh's: "insert"
# (the default) or "mixed" (25% inserts, 60% updates, 15% deletes), transactions of 1-20 row
# changes over 10 tables. BENCH_EXTRA is passed to every run; BENCH_BIN replaces the binary,
# and a mode ending in /b (p16/b, p16@10/b) runs BENCH_BIN_B instead, to compare two builds.
# Prints one line per mode: seconds, row changes/s, replicator CPU s, the CPU s of the
# walsender and of the replicator's target backends, the replicator's peak RSS, and whether
# the target matches the source. BENCH_PERF=DIR profiles each run (bench/lib.sh, start_run): DIR/N.data.
# BENCH_FK=1 ties the tables together with foreign keys, BENCH_UNIQUE=1 gives each a unique
# index besides its key (bench/lib.sh, ddl).
set -euo pipefail
cd "$(dirname "$0")/.."
CHANGES=${BENCH_CHANGES:-1000000}
MODES=${BENCH_MODES:-"p16 p1 p2 p4 p16@10 p4@10"}
BASE=${BENCH_DIR:-/tmp/replicator-parallelism}
SRC_PORT=${BENCH_SOURCE_PORT:-58632}
DST_PORT=${BENCH_TARGET_PORT:-58633}
BIN=${BENCH_BIN:-build-bench/src/replicator}
# BENCH_SSLMODE: libpq's sslmode for both connections (the servers accept TLS and plain TCP;
# libpq's default, prefer, uses TLS).
QUERY=${BENCH_SSLMODE:+?sslmode=$BENCH_SSLMODE}

scripts/setup.sh --bench >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DREP_BUILD_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target replicator delay_proxy >/dev/null

PSQL=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
S="$PSQL -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $SRC_PORT -U postgres"
T="$PSQL -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $DST_PORT -U postgres"
PROXIES=()
cleanup() {
    for p in "${PROXIES[@]}"; do kill "$p" 2>/dev/null || true; done
    scripts/pg_servers.sh stop "$BASE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
rm -rf "$BASE"
scripts/pg_servers.sh start "$BASE" "$SRC_PORT" "$DST_PORT" >/dev/null
declare -A PROXY_PORT=([2.5]=$((DST_PORT + 101)) [10]=$((DST_PORT + 102)))
for d in "${!PROXY_PORT[@]}"; do
    build-bench/bench/delay_proxy "${PROXY_PORT[$d]}" "$DST_PORT" "$d" & PROXIES+=($!)
done
source bench/lib.sh

fractions=$(variant_fractions "${BENCH_VARIANT:-insert}")
$S -c "CREATE DATABASE b"
$S -d b -c "$(ddl)" -c "$(seed)" -c "CREATE SEQUENCE ids START 1000000" -c "CREATE PUBLICATION bench_pub FOR ALL TABLES"
i=0
for mode in $MODES; do
    i=$((i + 1))
    $S -d b -c "SELECT pg_create_logical_replication_slot('s$i', 'pgoutput')" >/dev/null
    $T -c "CREATE DATABASE d$i"
    $T -d "d$i" -c "$(ddl)" -c "$(seed)"
done
# shellcheck disable=SC2086
generate_backlog "$S -d b" "$CHANGES" $fractions
end_lsn=$($S -d b -c "SELECT pg_current_wal_insert_lsn()")
i=0
for mode in $MODES; do
    i=$((i + 1))
    bin=$BIN
    if [[ $mode == */b ]]; then
        bin=${BENCH_BIN_B:?"mode $mode needs BENCH_BIN_B"}
    fi
    spec=${mode%/b}  # pN, pNf, pN@D or pNf@D
    par=${spec%%@*} port=$DST_PORT fixed=()
    par=${par#p}
    if [[ $par == *f ]]; then
        par=${par%f}
        fixed=(--fixedParallelism)
    fi
    if [[ $spec == *@* ]]; then
        port=${PROXY_PORT[${spec#*@}]:?"unknown distance in $mode (2.5 or 10)"}
    fi
    # shellcheck disable=SC2086
    start_run "$i" "$BASE/$i.log" "$bin" pglogical --sourceConn "postgresql://postgres@127.0.0.1:$SRC_PORT/b$QUERY" \
        --targetConn "postgresql://postgres@127.0.0.1:$port/d$i$QUERY" --targetSchema "d$i.public" \
        --slotName "s$i" --publicationName bench_pub --stagingCreateSchema \
        --dataDir "$BASE/data-$i" --parallelism "$par" "${fixed[@]}" ${BENCH_EXTRA:-}
    pid=$RUN_PID
    secs=$(wait_slot "$S -d b" "s$i" "$end_lsn")
    cpu=$(proc_cpu $pid)
    rss=$(proc_hwm $pid)
    # The walsender decoding this slot, and every target backend of the replicator.
    wal_cpu=$(slot_walsender_cpu "$S -d b" "s$i")
    apply_cpu=$(replicator_backends_cpu "$T" "d$i")
    kill -TERM $pid
    wait $RUN_WAIT || true
    ok=$([ "$(checksum "$SRC_PORT" b)" = "$(checksum "$DST_PORT" "d$i")" ] && echo yes || echo NO)
    printf '%-8s %6.2f s %8.0f rows/s  cpu %5.2f s  walsender %5.2f s  target %5.2f s  rss %4d MiB  match %s\n' \
        "$mode" "$secs" "$(echo "$CHANGES / $secs" | bc -l)" "$cpu" "$wal_cpu" "$apply_cpu" \
        "$((rss / 1024))" "$ok"
done
