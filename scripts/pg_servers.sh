#!/usr/bin/env bash
# Starts or stops two throwaway local PostgreSQL 15 servers, a source (wal_level=logical) and
# a target, for the demo and the tests. PostgreSQL refuses to run as root, so the servers run
# as the `postgres` system user that Debian's postgresql-common package creates.
#
#   scripts/pg_servers.sh start BASE SRC_PORT DST_PORT   # wipes BASE first
#   scripts/pg_servers.sh stop  BASE
#   scripts/pg_servers.sh stop-target BASE [fast|immediate]   # default immediate (a crash)
#   scripts/pg_servers.sh start-target BASE DST_PORT
#   scripts/pg_servers.sh stop-source BASE [fast|immediate] / start-source BASE SRC_PORT
# Use ports below 32768: see tests/integration/CMakeLists.txt.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start|stop|restart-target}
BASE=${2:?base directory}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_init() { # name
    as_pg "$PGBIN/initdb" -D "$BASE/$1" -U postgres -A trust -E UTF8 --no-locale --no-sync \
        >"$BASE/$1.initdb.log"
}

# A self-signed certificate for 127.0.0.1 (its own root), so clients can test TLS with
# sslmode=verify-full&sslrootcert=$BASE/tls/server.crt. Both servers accept TLS and plain TCP.
make_cert() {
    mkdir -p "$BASE/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$BASE/tls/server.key" -out "$BASE/tls/server.crt" >/dev/null 2>&1
    chmod 600 "$BASE/tls/server.key"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$BASE/tls"; fi
    chmod 644 "$BASE/tls/server.crt"
}

pg_start() { # name port extra-opts...
    local name=$1 port=$2
    shift 2
    as_pg "$PGBIN/pg_ctl" -D "$BASE/$name" -l "$BASE/$name.log" -w -t 60 -o \
        "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$BASE/tls/server.crt -c ssl_key_file=$BASE/tls/server.key $*" \
        start >/dev/null
}

# fast: a clean shutdown that ends every session (what a planned restart does);
# immediate: no shutdown at all, as when the machine dies. Default immediate.
stop_mode() {
    case "${1:-immediate}" in
    fast | immediate) echo "${1:-immediate}" ;;
    *)
        echo "$0: stop mode must be fast or immediate, not '$1'" >&2
        exit 2
        ;;
    esac
}

case "$cmd" in
start)
    SRC_PORT=${3:?source port}
    DST_PORT=${4:?target port}
    "$0" stop "$BASE" || true
    rm -rf "$BASE"
    mkdir -p "$BASE"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$BASE"; fi
    make_cert
    pg_init src & p1=$!
    pg_init dst & p2=$!
    wait $p1
    wait $p2
    pg_start src "$SRC_PORT" -c wal_level=logical -c max_replication_slots=64 -c max_wal_senders=64 \
        -c logical_decoding_work_mem=${LOGICAL_DECODING_WORK_MEM:-64MB}
    pg_start dst "$DST_PORT"
    ;;
stop)
    for n in src dst; do
        if [ -f "$BASE/$n/postmaster.pid" ]; then
            as_pg "$PGBIN/pg_ctl" -D "$BASE/$n" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    done
    ;;
stop-target)
    as_pg "$PGBIN/pg_ctl" -D "$BASE/dst" -m "$(stop_mode "${3:-}")" -w stop >/dev/null
    ;;
start-target)
    DST_PORT=${3:?target port}
    pg_start dst "$DST_PORT"
    ;;
stop-source)
    as_pg "$PGBIN/pg_ctl" -D "$BASE/src" -m "$(stop_mode "${3:-}")" -w stop >/dev/null
    ;;
start-source)
    SRC_PORT=${3:?source port}
    pg_start src "$SRC_PORT" -c wal_level=logical -c max_replication_slots=64 -c max_wal_senders=64 \
        -c logical_decoding_work_mem=${LOGICAL_DECODING_WORK_MEM:-64MB}
    ;;
*)
    echo "usage: $0 start|stop|stop-target|start-target|stop-source|start-source BASE [ports]" >&2
    exit 2
    ;;
esac
