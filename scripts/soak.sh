#!/usr/bin/env bash
# Soak test, outside the test suite: kill -9 at random moments (0.3-1.2 s after each start)
# during a running workload, KILLS times for each of four runs, then the checks of the
# interruption tests:
#   - pglogical, --parallelism 1: the target's ledger an unbroken prefix at every sample;
#   - pglogical, default flags (16 connections, commits in source order): the same;
#   - pglogical, --parallelism 8 --unorderedCommits: every source transaction visible whole
#     or not at all;
#   - mylogical (MariaDB), default flags: the ledger an unbroken prefix at every sample;
# and each time, once the workload stops, source and target equal table by table and (for
# pglogical) no source transaction applied twice.
#
#   scripts/soak.sh [KILLS]     # default 350 per run, 1400 in all; about 20 minutes on 2 cores
#
# It uses its own servers (scratch directory and ports apart from the test suite's), so it can
# run beside scripts/test.sh, and a copy of the binary, so rebuilding meanwhile does not
# change what is soaked.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-350}
scripts/setup.sh >/dev/null
export REP_TEST_BASE=${REP_TEST_BASE:-/tmp/replicator-soak}
export REP_TEST_SOURCE_PORT=${REP_TEST_SOURCE_PORT:-26532}
export REP_TEST_TARGET_PORT=${REP_TEST_TARGET_PORT:-26533}
export REP_TEST_MARIADB_PORT=${REP_TEST_MARIADB_PORT:-26406}
export REP_SOAK_KILLS=$KILLS
BIN_COPY=$(mktemp -d /tmp/replicator-soak-bin.XXXXXX)
cp build/src/replicator build/tests/integration/integration_tests "$BIN_COPY/"
export REP_TEST_BINARY=$BIN_COPY/replicator

stop() {
    scripts/pg_servers.sh stop "$REP_TEST_BASE" || true
    scripts/mariadb_server.sh stop "$REP_TEST_BASE-mariadb" || true
    rm -rf "$BIN_COPY"
}
trap stop EXIT
scripts/pg_servers.sh start "$REP_TEST_BASE" "$REP_TEST_SOURCE_PORT" "$REP_TEST_TARGET_PORT"
scripts/mariadb_server.sh start "$REP_TEST_BASE-mariadb" "$REP_TEST_MARIADB_PORT"

start=$(date +%s)
"$BIN_COPY/integration_tests" --gtest_brief=0 \
    --gtest_filter='Resume.TwentyKillNineDuringWorkload:Resume.TwentyKillNineWithDefaultFlags:Resume.TwentyKillNineWithUnorderedCommits:Mylogical.TwentyKillNineDuringWorkload'
echo "soak: $((4 * KILLS)) kill -9 in $(($(date +%s) - start)) s, all checks passed"
