#!/usr/bin/env bash
# oraclelogminer catch-up from the simulated Oracle (tests/oracle_sim: the simulator server
# and the stand-in libclntsh, the production binary unchanged) into a local PostgreSQL, and
# the SQL_REDO parser's rate on one core, in one run. Prints rows/s, where the CPU went
# (replicator, simulator) and the parser's headroom over the end-to-end rate.
#
#   bench/oracle.sh                      # 200k simulator steps (about 80k row changes)
#   BENCH_STEPS=40000 bench/oracle.sh    # writes docs/benchmarks-oracle.md
#
# The backlog is the simulator's random workload (interleaved transactions on two redo
# threads, savepoints, failed statements, rollbacks, key changes, log switches), mined in
# default windows (--scnWindowSize 3250) with Oracle's 4000-byte continuation rows. The
# simulator answers each contents query in one JSON message with hex-encoded text, so it is
# a slower server than Oracle per row: the CPU columns say how much of the run it took.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${BENCH_STEPS:-200000}
OUT=${BENCH_OUT:-docs/benchmarks-oracle.md}
BASE=${BENCH_DIR:-/tmp/replicator-oracle-bench}
DST_PORT=${BENCH_TARGET_PORT:-58733}
METRICS_PORT=${BENCH_METRICS_PORT:-58790}

scripts/setup.sh --bench >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DREP_BUILD_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target replicator decoder_bench oracle_sim_server stand_in_clntsh >/dev/null
BIN=build-bench/src/replicator

PSQL=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
T="$PSQL -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $DST_PORT -U postgres -d orabench"
SIM_PID=""
cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
    scripts/pg_servers.sh stop "$BASE/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
rm -rf "$BASE"
mkdir -p "$BASE"
# Two servers start; only the second (the target) is used.
scripts/pg_servers.sh start "$BASE/pg" $((DST_PORT - 1)) "$DST_PORT" >/dev/null
source bench/lib.sh

# BENCH_SIM_PREFIX="perf record -g -o /tmp/sim.perf" profiles the simulator (its CPU column is
# then perf's).
${BENCH_SIM_PREFIX:-} build-bench/oracle_sim/oracle_sim_server 0 >"$BASE/sim.port" &
SIM_PID=$!
for _ in $(seq 50); do grep -q PORT "$BASE/sim.port" && break; sleep 0.1; done
SIM_PORT=$(awk '/PORT/ {print $2}' "$BASE/sim.port")
simctl() { # JSON control request -> the answer's field $2 (or the whole answer)
    python3 - "$SIM_PORT" "$1" "${2:-}" <<'EOF'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = json.loads(sys.argv[2]); req["op"] = "control"
s.sendall((json.dumps(req) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(1 << 20)
    if not chunk: break
    buf += chunk
ans = json.loads(buf)
if "error" in ans: sys.exit("simulator: " + ans["error"])
out = ans.get(sys.argv[3]) if sys.argv[3] else ans
sys.stdout.write(out if isinstance(out, str) else json.dumps(out) + "\n")
EOF
}
simctl '{"cmd":"setup","seed":42,"threads":2,"record_states":false,"csf_limit":4000}' >/dev/null
SCN=$(simctl '{"cmd":"current_scn"}' scn)
$PSQL -XAtq -h 127.0.0.1 -p "$DST_PORT" -U postgres -c "CREATE DATABASE orabench"
$T -c "CREATE TABLE t1(id text PRIMARY KEY, n text, s text); CREATE TABLE t2(id text PRIMARY KEY, v text)"
echo "generating $STEPS workload steps"
simctl "{\"cmd\":\"step\",\"n\":$STEPS}" >/dev/null
simctl '{"cmd":"finish"}' >/dev/null
simctl '{"cmd":"state"}' state >"$BASE/state.txt"
WANT=$(md5sum <"$BASE/state.txt" | cut -c1-32)
sim_cpu0=$(proc_cpu "$SIM_PID")
perf record -F 999 -a -g -o /tmp/rep.perf 2>/dev/null & PERF=$!; sleep 1

target_sum() {
    $T -c "SELECT md5(coalesce(string_agg(line || E'\n', '' ORDER BY t, id COLLATE \"C\"), '')) FROM (
             SELECT 1 AS t, id, 'T1|' || id || '|' || coalesce(n, 'NULL') || '|' || coalesce(s, 'NULL') AS line FROM t1
             UNION ALL SELECT 2, id, 'T2|' || id || '|' || coalesce(v, 'NULL') FROM t2) u"
}
start=$(now)
"$BIN" oraclelogminer --sourceConn "oracle://C%23%23REPL:secret@127.0.0.1:$SIM_PORT/ORCLCDB" \
    --sourcePDBConn "oracle://APPUSER:secret@127.0.0.1:$SIM_PORT/ORCLPDB1" --sourceSchema APP \
    --targetConn "postgresql://postgres@127.0.0.1:$DST_PORT/orabench" --targetSchema orabench.public \
    --stagingSchema _replicator --stagingCreateSchema --scn "$SCN" \
    --oracleClientLibDir "$PWD/build-bench/oracle_sim/client" --dataDir "$BASE/data" \
    --metricsAddr "127.0.0.1:$METRICS_PORT" >"$BASE/replicator.log" 2>&1 &
pid=$!
until [ "$(target_sum)" = "$WANT" ]; do
    if ! kill -0 $pid 2>/dev/null; then echo "replicator exited:"; tail -20 "$BASE/replicator.log"; exit 1; fi
    sleep 0.2
done
secs=$(echo "$(now) - $start" | bc -l)
cpu=$(proc_cpu $pid)
sim_cpu=$(echo "$(proc_cpu "$SIM_PID") - $sim_cpu0" | bc -l)
rows=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/_/varz').read().decode())" |
    awk '/^apply_(upserts|deletes)_total\{/ {s += $2} END {print s}')
kill -TERM $pid; wait $pid || true
kill -INT $PERF; wait $PERF || true

parse=$(build-bench/bench/decoder_bench --benchmark_filter='SqlRedo' --benchmark_min_time=1 \
    --benchmark_format=json | python3 -c '
import json, sys
for b in json.load(sys.stdin)["benchmarks"]:
    print(b["name"], b["items_per_second"])')
parse_rate=$(echo "$parse" | awk '$1 == "BM_SqlRedoParse" {print $2}')
convert_rate=$(echo "$parse" | awk '$1 == "BM_SqlRedoToMutation" {print $2}')
rate=$(echo "$rows / $secs" | bc -l)

{
echo "# oraclelogminer benchmark"
echo
echo "Produced by \`bench/oracle.sh\` (BENCH_STEPS=$STEPS) on $(date +%Y-%m-%d): $(nproc) cores,"
echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM. No Oracle server runs here: the source is the simulated Oracle of"
echo "\`tests/oracle_sim/\` behind the stand-in \`libclntsh.so\`, with the production binary and"
echo "its OCI code unchanged; the target is a local PostgreSQL 15. The clock runs from the"
echo "replicator's start (first run, \`--scn\` at the start of the backlog) until the target's"
echo "tables equal the simulator's committed state."
echo
echo "| measure | value |"
echo "|---|---|"
printf '| row changes applied | %s |\n' "$rows"
printf '| catch-up into PostgreSQL | %.1f s, %.0f rows/s |\n' "$secs" "$rate"
printf '| replicator CPU (the stand-in client library included) | %.2f s (%.2f s per 100k rows) |\n' "$cpu" "$(echo "$cpu / $rows * 100000" | bc -l)"
printf '| simulator server CPU | %.2f s |\n' "$sim_cpu"
printf '| SQL_REDO parsed, one core | %.0f rows/s (%.1fx the end-to-end rate) |\n' "$parse_rate" "$(echo "$parse_rate / $rate" | bc -l)"
printf '| parsed and turned into row changes, one core | %.0f rows/s |\n' "$convert_rate"
echo
echo "The SQL_REDO rates are \`decoder_bench\`'s (BM_SqlRedoParse, BM_SqlRedoToMutation) on"
echo "statements of an 8-column table in LogMiner's rendering, measured in the same run. The"
echo "simulator answers each contents query with one JSON message of hex-encoded text, which"
echo "the stand-in library parses inside the replicator's process: both CPU figures include"
echo "that protocol, which a real Oracle and Instant Client do not have in this form. The"
echo "end-to-end rate therefore says what the simulator can serve, not what LogMiner can; the"
echo "parser's headroom over it says that parsing will not be what limits a real source."
} | tee "$OUT"
