#!/usr/bin/env bash
# Starts or stops a throwaway local MariaDB server with what `replicator mylogical` needs:
# binary log on, ROW format, FULL row image and metadata, GTIDs in strict mode.
#
#   scripts/mariadb_server.sh start BASE PORT    # wipes BASE first
#   scripts/mariadb_server.sh stop BASE [fast|immediate]
#                                # fast: SIGTERM, a clean shutdown (the default);
#                                # immediate: kill -9, as when the machine dies
#   scripts/mariadb_server.sh resume BASE PORT   # starts it again on the data it has
set -euo pipefail
cmd=${1:?start|stop|resume}
BASE=${2:?base directory}

stop() { # [fast|immediate]
    if [ -f "$BASE/pid" ]; then
        pid=$(cat "$BASE/pid")
        case "${1:-fast}" in
        fast) kill "$pid" 2>/dev/null || true ;;
        immediate) kill -9 "$pid" 2>/dev/null || true ;;
        *)
            echo "$0: stop mode must be fast or immediate, not '$1'" >&2
            exit 2
            ;;
        esac
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$BASE/pid"
    fi
}

launch() { # port
    local PORT=$1
    /usr/sbin/mariadbd --no-defaults --user=root --datadir="$BASE/data" --socket="$BASE/sock" \
        --pid-file="$BASE/pid" --log-error="$BASE/err.log" --bind-address=127.0.0.1 \
        --port="$PORT" --skip-name-resolve --server-id=1 --log-bin="$BASE/data/mysql-bin" \
        --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
        --gtid-domain-id=0 --gtid-strict-mode=ON --log-slave-updates=ON \
        --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 \
        --max-connections=200 --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        --ssl-cert="$BASE/tls/server.crt" --ssl-key="$BASE/tls/server.key" \
        >"$BASE/stdout.log" 2>&1 &
    for _ in $(seq 1 300); do
        if mariadb-admin --no-defaults --connect-timeout=2 -h127.0.0.1 -P"$PORT" -uroot ping \
            >/dev/null 2>&1; then
            exit 0
        fi
        sleep 0.1
    done
    cat "$BASE/err.log" >&2
    exit 1
}

case "$cmd" in
start)
    PORT=${3:?port}
    stop
    rm -rf "$BASE"
    mkdir -p "$BASE/tls"
    # A self-signed certificate for 127.0.0.1, so tests can connect with sslmode=verify-full.
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$BASE/tls/server.key" -out "$BASE/tls/server.crt" >/dev/null 2>&1
    mariadb-install-db --no-defaults --user=root --datadir="$BASE/data" \
        --auth-root-authentication-method=normal --skip-test-db >"$BASE/install.log" 2>&1
    launch "$PORT"
    ;;
resume)
    PORT=${3:?port}
    launch "$PORT"
    ;;
stop)
    stop "${3:-fast}"
    ;;
*)
    echo "usage: $0 start BASE PORT | stop BASE [fast|immediate] | resume BASE PORT" >&2
    exit 2
    ;;
esac
