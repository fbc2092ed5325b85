#!/usr/bin/env bash
# What a userscript costs: catch-up of the same backlog with no script and with a trivial
# filter plus one column rename (bench/userscript_rename.ts), side by side in one run, with
# the same build, alternating which goes first in each round. Prints seconds, replicator CPU,
# the ratio of rates, and the CPU the script adds per row change.
#
#   BENCH_CHANGES=300000 BENCH_ROUNDS=3 bench/userscript.sh
#   BENCH_PERF=/tmp/us-perf bench/userscript.sh   # and a profile of each run (bench/lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

CHANGES=${BENCH_CHANGES:-300000}
ROUNDS=${BENCH_ROUNDS:-2}
BASE=${BENCH_DIR:-/tmp/replicator-userscript}
SRC_PORT=${BENCH_SOURCE_PORT:-58632}
DST_PORT=${BENCH_TARGET_PORT:-58633}

scripts/setup.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DREP_BUILD_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target replicator >/dev/null
BIN=${BENCH_BIN:-build-bench/src/replicator}

PSQL=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
S="$PSQL -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $SRC_PORT -U postgres"
T="$PSQL -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $DST_PORT -U postgres"
cleanup() { scripts/pg_servers.sh stop "$BASE/pg" >/dev/null 2>&1 || true; }
trap cleanup EXIT
rm -rf "$BASE"
scripts/pg_servers.sh start "$BASE/pg" "$SRC_PORT" "$DST_PORT"

source bench/lib.sh
DB=usbench
RUNS=()
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then RUNS+=("none:$r" "script:$r"); else RUNS+=("script:$r" "none:$r"); fi
done
$S -c "CREATE DATABASE $DB"
$S -d $DB -c "$(ddl)" -c "$(seed)" -c "CREATE SEQUENCE ids START 1000000" -c "CREATE PUBLICATION bench_pub FOR ALL TABLES"
for run in "${RUNS[@]}"; do
    name=${run//:/_}
    $S -d $DB -c "SELECT pg_create_logical_replication_slot('$name', 'pgoutput')" >/dev/null
    $T -c "CREATE DATABASE $name"
    if [[ $run == script:* ]]; then
        # The script renames payload to body: the same position, so checksums still compare.
        $T -d "$name" -c "$(ddl | sed 's/payload text/body text/')" -c "$(seed)"
    else
        $T -d "$name" -c "$(ddl)" -c "$(seed)"
    fi
done
echo "generating $CHANGES row changes"
generate_backlog "$S -d $DB" "$CHANGES" 0.25 0.60
END_LSN=$($S -d $DB -c "SELECT pg_current_wal_insert_lsn()")
SUM=$(checksum "$SRC_PORT" $DB)

declare -A SECS CPU
for run in "${RUNS[@]}"; do
    IFS=: read -r variant round <<<"$run"
    name=${run//:/_}
    extra=()
    if [ "$variant" = script ]; then
        sed "s/SCHEMA/$name.public/" bench/userscript_rename.ts >"$BASE/$name.ts"
        extra=(--userscript "$BASE/$name.ts")
    fi
    start_run "$name" "$BASE/$name.log" "$BIN" pglogical --sourceConn "postgresql://postgres@127.0.0.1:$SRC_PORT/$DB" \
        --targetConn "postgresql://postgres@127.0.0.1:$DST_PORT/$name" --targetSchema "$name.public" \
        --slotName "$name" --publicationName bench_pub --stagingCreateSchema \
        --dataDir "$BASE/data-$name" "${extra[@]}"
    pid=$RUN_PID
    secs=$(wait_slot "$S -d $DB" "$name" "$END_LSN")
    cpu=$(proc_cpu $pid)
    kill -TERM $pid; wait $RUN_WAIT || true
    ok=$([ "$(checksum "$DST_PORT" "$name")" = "$SUM" ] && echo yes || echo NO)
    SECS[$variant]="${SECS[$variant]:-} $secs"
    CPU[$variant]="${CPU[$variant]:-} $cpu"
    printf '%-6s round %s: %6.2fs  replicator CPU %6.2fs  match %s\n' "$variant" "$round" "$secs" "$cpu" "$ok"
done

sum() { echo "$1" | tr ' ' '\n' | grep . | paste -sd+ | bc -l; }
sn=$(sum "${SECS[none]}") ss=$(sum "${SECS[script]}")
cn=$(sum "${CPU[none]}") cs=$(sum "${CPU[script]}")
echo
echo "Catch-up of $CHANGES row changes, $ROUNDS rounds, $(nproc) cores, default flags"
echo
echo "| variant | seconds (each round) | replicator CPU s (sum) |"
echo "|---|---|---|"
printf '| no script | %s | %.1f |\n' "${SECS[none]}" "$cn"
printf '| filter + rename script | %s | %.1f |\n' "${SECS[script]}" "$cs"
echo
printf 'rate with the script / rate without: %.2f\n' "$(echo "$sn / $ss" | bc -l)"
printf 'CPU the script adds per row change: %.2f us\n' \
    "$(echo "($cs - $cn) / ($ROUNDS * $CHANGES) * 1000000" | bc -l)"
