#!/usr/bin/env bash
# The embedded default: installs and builds, starts throwaway source and target PostgreSQL
# servers, runs a workload, replicates it with `replicator pglogical`, interrupts and
# resumes replication, and shows that the target matches the source.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

BASE=${DEMO_DIR:-/tmp/replicator-demo}
SRC_PORT=${DEMO_SOURCE_PORT:-25432}
DST_PORT=${DEMO_TARGET_PORT:-25433}
BIN=build/src/replicator
SRC="psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $SRC_PORT -U postgres"
DST="psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $DST_PORT -U postgres"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() { scripts/pg_servers.sh stop "$BASE" || true; }
trap cleanup EXIT

say "starting throwaway PostgreSQL servers (source :$SRC_PORT, target :$DST_PORT) in $BASE"
scripts/pg_servers.sh start "$BASE" "$SRC_PORT" "$DST_PORT"
DDL="CREATE TABLE customers(id int PRIMARY KEY, name text, tier text);
     CREATE TABLE orders(id bigint PRIMARY KEY, customer int, amount numeric(12,2), placed timestamptz, items jsonb);"
$SRC -c "CREATE DATABASE shop"
$DST -c "CREATE DATABASE shop"
$SRC -d shop -c "$DDL"
$DST -d shop -c "$DDL"

say "creating the publication and slot on the source (before any data is copied)"
$SRC -d shop -c "CREATE PUBLICATION molt_fetch FOR ALL TABLES"
$SRC -d shop -c "SELECT pg_create_logical_replication_slot('molt_slot', 'pgoutput')" >/dev/null

workload() { # first last
    $SRC -d shop -c "INSERT INTO customers SELECT g, 'customer ' || g, 'bronze' FROM generate_series($1, $2) g;
                     INSERT INTO orders SELECT g * 10 + k, g, (g * k) % 1000 + 0.99, now(), jsonb_build_object('sku', k)
                       FROM generate_series($1, $2) g, generate_series(1, 3) k;
                     UPDATE customers SET tier = 'gold' WHERE id % 7 = 0 AND id BETWEEN $1 AND $2;
                     DELETE FROM orders WHERE id % 10 = 3 AND id BETWEEN $1 * 10 AND $2 * 10 + 9;"
}

run_replicator() {
    $BIN pglogical \
        --sourceConn "postgresql://postgres@127.0.0.1:$SRC_PORT/shop" \
        --targetConn "postgresql://postgres@127.0.0.1:$DST_PORT/shop" \
        --targetSchema shop.public --slotName molt_slot --publicationName molt_fetch \
        --stagingSchema _replicator --stagingCreateSchema --dataDir "$BASE/data" &
    REPLICATOR_PID=$!
}

compare() {
    local ok=1
    for t in customers orders; do
        s=$($SRC -d shop -Atc "SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM $t x")
        d=$($DST -d shop -Atc "SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM $t x")
        printf '  %-10s source: %s\n  %-10s target: %s\n' "$t" "$s" "" "$d"
        [ "$s" = "$d" ] || ok=0
    done
    [ $ok = 1 ]
}

wait_match() {
    for _ in $(seq 1 300); do
        if compare >/dev/null; then return 0; fi
        sleep 0.2
    done
    compare
    return 1
}

say "writing a first batch of changes on the source"
workload 1 5000
say "starting replicator pglogical"
run_replicator
wait_match
compare

say "interrupting replication (SIGTERM) and writing more changes while it is down"
kill -TERM $REPLICATOR_PID
wait $REPLICATOR_PID
workload 5001 10000
$DST -d shop -Atc "SELECT 'checkpoint in _replicator.memo: ' || key || ' = ' || convert_from(value, 'UTF8') FROM _replicator.memo"

say "running the same command again: it resumes from the checkpoint"
run_replicator
workload 10001 12000
wait_match
compare
kill -TERM $REPLICATOR_PID
wait $REPLICATOR_PID

say "done: the target matches the source"
