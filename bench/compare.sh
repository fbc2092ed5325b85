#!/usr/bin/env bash
# Side-by-side catch-up of two builds of replicator on the same backlog, in one run: the
# working tree against an earlier revision. For changes that should not change speed (a
# restructuring), or to measure one that should. Prints a table of seconds and ratios.
#
#   bench/compare.sh REV               # e.g. bench/compare.sh main~3
#   BENCH_CHANGES=300000 BENCH_ROUNDS=3 bench/compare.sh REV
#
# The backlog is the mixed one of bench/catchup.sh (25% inserts, 60% updates, 15% deletes,
# transactions of 1-20 row changes over 10 tables), or with BENCH_VARIANT=insert its
# insert-only one. Each round runs every mode with both
# builds, alternating which goes first, so drift on a shared machine falls on both alike.
# Modes: default flags; --parallelism 1; both with the target 1 ms away (bench/delay_proxy);
# remote5 and remote20: default flags with the target 2.5 ms and 10 ms away (a round trip of
# 5 ms, a CockroachDB-like commit in another zone, and of 20 ms, another region); unordered:
# --unorderedCommits (builds that have it).
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare.sh REV}
CHANGES=${BENCH_CHANGES:-1000000}
ROUNDS=${BENCH_ROUNDS:-2}
BASE=${BENCH_DIR:-/tmp/replicator-compare}
SRC_PORT=${BENCH_SOURCE_PORT:-58532}
DST_PORT=${BENCH_TARGET_PORT:-58533}
MODES=${BENCH_MODES:-"default serial remote remote_serial"}

scripts/setup.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DREP_BUILD_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target replicator delay_proxy >/dev/null
OLD_SRC="$BASE/src-$(git rev-parse --short "$REV")"
if [ ! -d "$OLD_SRC" ]; then
    mkdir -p "$BASE"
    git worktree add --detach "$OLD_SRC" "$REV" >/dev/null
fi
cmake -S "$OLD_SRC" -B "$OLD_SRC/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$OLD_SRC/build" -j"$(nproc)" --target replicator >/dev/null
declare -A BIN=([old]="$OLD_SRC/build/src/replicator" [new]=build-bench/src/replicator)

PSQL=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
S="$PSQL -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $SRC_PORT -U postgres"
T="$PSQL -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $DST_PORT -U postgres"
RT_PORT=$((DST_PORT + 100))
RT5_PORT=$((DST_PORT + 101))
RT20_PORT=$((DST_PORT + 102))
PROXIES=()
cleanup() {
    for p in "${PROXIES[@]}"; do kill "$p" 2>/dev/null || true; done
    scripts/pg_servers.sh stop "$BASE/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
scripts/pg_servers.sh start "$BASE/pg" "$SRC_PORT" "$DST_PORT"
build-bench/bench/delay_proxy "$RT_PORT" "$DST_PORT" 1 & PROXIES+=($!)
build-bench/bench/delay_proxy "$RT5_PORT" "$DST_PORT" 2.5 & PROXIES+=($!)
build-bench/bench/delay_proxy "$RT20_PORT" "$DST_PORT" 10 & PROXIES+=($!)

source bench/lib.sh
DB=compare
RUNS=()
for r in $(seq 1 "$ROUNDS"); do
    for mode in $MODES; do
        if [ $((r % 2)) = 1 ]; then RUNS+=("old:$mode:$r" "new:$mode:$r"); else RUNS+=("new:$mode:$r" "old:$mode:$r"); fi
    done
done
$S -c "CREATE DATABASE $DB"
$S -d $DB -c "$(ddl)" -c "$(seed)" -c "CREATE SEQUENCE ids START 1000000" -c "CREATE PUBLICATION bench_pub FOR ALL TABLES"
for run in "${RUNS[@]}"; do
    name=${run//:/_}
    $S -d $DB -c "SELECT pg_create_logical_replication_slot('$name', 'pgoutput')" >/dev/null
    $T -c "CREATE DATABASE $name"
    $T -d "$name" -c "$(ddl)" -c "$(seed)"
done
echo "generating $CHANGES row changes"
fractions=$(variant_fractions "${BENCH_VARIANT:-mixed}")  # an unknown variant stops here
# shellcheck disable=SC2086
generate_backlog "$S -d $DB" "$CHANGES" $fractions
END_LSN=$($S -d $DB -c "SELECT pg_current_wal_insert_lsn()")
SUM=$(checksum "$SRC_PORT" $DB)

declare -A SECS CPU
for run in "${RUNS[@]}"; do
    IFS=: read -r build mode round <<<"$run"
    name=${run//:/_}
    port=$DST_PORT extra=()
    case $mode in
        serial) extra=(--parallelism 1) ;;
        remote) port=$RT_PORT ;;
        remote_serial) port=$RT_PORT; extra=(--parallelism 1) ;;
        remote5) port=$RT5_PORT ;;
        remote20) port=$RT20_PORT ;;
        unordered) extra=(--unorderedCommits) ;;
    esac
    "${BIN[$build]}" pglogical --sourceConn "postgresql://postgres@127.0.0.1:$SRC_PORT/$DB" \
        --targetConn "postgresql://postgres@127.0.0.1:$port/$name" --targetSchema "$name.public" \
        --slotName "$name" --publicationName bench_pub --stagingCreateSchema \
        --dataDir "$BASE/data-$name" "${extra[@]}" >"$BASE/$name.log" 2>&1 &
    pid=$!
    secs=$(wait_slot "$S -d $DB" "$name" "$END_LSN")
    cpu=$(proc_cpu $pid)
    kill -TERM $pid; wait $pid || true
    ok=$([ "$(checksum "$DST_PORT" "$name")" = "$SUM" ] && echo yes || echo NO)
    SECS[$build,$mode]="${SECS[$build,$mode]:-} $secs"
    CPU[$build,$mode]="${CPU[$build,$mode]:-} $cpu"
    printf '%-4s %-14s round %s: %6.2fs  replicator CPU %5.2fs  match %s\n' "$build" "$mode" "$round" "$secs" "$cpu" "$ok"
done

echo
echo "Catch-up of $CHANGES ${BENCH_VARIANT:-mixed} row changes, old = $(git rev-parse --short "$REV"), new = working tree; $ROUNDS rounds, $(nproc) cores"
echo
echo "| mode | old s (each round) | new s (each round) | new/old, sum of rounds | replicator CPU s, old / new (sum) |"
echo "|---|---|---|---|---|"
for mode in $MODES; do
    o=${SECS[old,$mode]} n=${SECS[new,$mode]}
    so=$(echo "$o" | tr ' ' '\n' | grep . | paste -sd+ | bc -l)
    sn=$(echo "$n" | tr ' ' '\n' | grep . | paste -sd+ | bc -l)
    co=$(echo "${CPU[old,$mode]}" | tr ' ' '\n' | grep . | paste -sd+ | bc -l)
    cn=$(echo "${CPU[new,$mode]}" | tr ' ' '\n' | grep . | paste -sd+ | bc -l)
    printf '| %s | %s | %s | %.2f | %.1f / %.1f |\n' "$mode" "$(for x in $o; do printf '%.2f ' "$x"; done)" \
        "$(for x in $n; do printf '%.2f ' "$x"; done)" "$(echo "$sn / $so" | bc -l)" "$co" "$cn"
done
