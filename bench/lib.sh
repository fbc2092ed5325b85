# Shell functions shared by the bench/ scripts (sourced, not run).
# Needs PSQL (the psql binary) set by the caller.

now() { date +%s.%N; }
proc_cpu() { # pid -> cpu seconds
    awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"
}
proc_hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
# slot_walsender_cpu "source psql for the database" slot -> CPU s of the walsender serving it
slot_walsender_cpu() {
    proc_cpu "$($1 -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$2'")"
}
# replicator_backends_cpu "target psql" database -> CPU s of the replicator's backends there
# (one per apply worker in use, and its own session)
replicator_backends_cpu() {
    local sum=0 pid
    for pid in $($1 -c "SELECT pid FROM pg_stat_activity WHERE datname = '$2' AND application_name = 'replicator'"); do
        sum=$(echo "$sum + $(proc_cpu "$pid")" | bc -l)
    done
    echo "$sum"
}

# start_run NAME LOG COMMAND...: COMMAND in the background, its output in LOG. Sets RUN_PID
# (the command's process, for proc_cpu) and RUN_WAIT (what to wait for once it is told to
# stop). With BENCH_PERF=DIR the command runs under perf record from its start, its profile
# in DIR/NAME.data (BENCH_PERF_ARGS adds options, e.g. "--call-graph dwarf"): to see where
# the CPU goes, perf report -i DIR/NAME.data -n --sort dso,sym.
start_run() {
    local name=$1 log=$2
    shift 2
    if [ -z "${BENCH_PERF:-}" ]; then
        "$@" >"$log" 2>&1 &
        RUN_PID=$! RUN_WAIT=$!
        return
    fi
    mkdir -p "$BENCH_PERF"
    # shellcheck disable=SC2086
    perf record -q ${BENCH_PERF_ARGS:-} -o "$BENCH_PERF/$name.data" -- "$@" >"$log" 2>&1 &
    RUN_WAIT=$! RUN_PID=
    for _ in $(seq 100); do
        RUN_PID=$(pgrep -P "$RUN_WAIT") && break
        sleep 0.05
    done
    if [ -z "$RUN_PID" ]; then
        echo "perf did not start the run $name" >&2
        kill "$RUN_WAIT" 2>/dev/null || true
        exit 1
    fi
}

# Ten tables of about 200-byte rows, each starting with 20k rows.
# BENCH_FK=1: t1..t9 also get a column `ref` referencing t0 (left NULL by the backlog), so every
# table is tied to the others by a foreign key, as in most application schemas.
# BENCH_UNIQUE=1: every table also has a unique index on `payload` (distinct md5 texts).
ddl() {
    for i in $(seq 0 9); do echo "CREATE TABLE t$i(id bigint PRIMARY KEY, n int NOT NULL, payload text NOT NULL);"; done
    if [ "${BENCH_FK:-0}" = 1 ]; then
        for i in $(seq 1 9); do echo "ALTER TABLE t$i ADD COLUMN ref bigint REFERENCES t0(id);"; done
    fi
    if [ "${BENCH_UNIQUE:-0}" = 1 ]; then
        for i in $(seq 0 9); do echo "CREATE UNIQUE INDEX t${i}_payload ON t$i(payload);"; done
    fi
}
seed() { for i in $(seq 0 9); do echo "INSERT INTO t$i SELECT g, 0, substr(repeat(md5(g::text), 7), 1, 200) FROM generate_series(1, 20000) g;"; done; }

checksum() { # port db -> a short digest of all ten tables
    local q=""
    for i in $(seq 0 9); do q="$q SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t$i t;"; done
    $PSQL -XAtq -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$q" | md5sum | cut -c1-12
}

# Writes `changes` row changes in transactions of 1-20 (fractions of inserts and updates; the
# rest deletes) with a fixed seed, so every run writes the same backlog. Needs the sequence
# `ids` in the database.
# variant_fractions VARIANT -> "insert_fraction update_fraction" for generate_backlog: "insert"
# (inserts only) or "mixed" (25% inserts, 60% updates, 15% deletes).
variant_fractions() {
    case $1 in
        insert) echo "1.0 0.0" ;;
        mixed) echo "0.25 0.60" ;;
        *) echo "unknown backlog variant '$1' (insert or mixed)" >&2; exit 2 ;;
    esac
}
generate_backlog() { # "psql command for the database" changes insert_fraction update_fraction
    $1 -c "
DO \$\$
DECLARE done_rows int := 0; n int; tbl int; op float8; rc int;
BEGIN
  PERFORM setseed(0.42);
  WHILE done_rows < $2 LOOP
    n := 1 + floor(random() * 20)::int;
    FOR j IN 1..n LOOP
      tbl := floor(random() * 10)::int;
      op := random();
      IF op < $3 THEN
        EXECUTE format('INSERT INTO t%s VALUES (nextval(''ids''), 0, substr(repeat(md5(random()::text), 7), 1, 200))', tbl);
      ELSIF op < $3 + $4 THEN
        EXECUTE format('UPDATE t%s SET n = n + 1 WHERE id = \$1', tbl) USING (1 + floor(random() * 20000))::bigint;
      ELSE
        EXECUTE format('DELETE FROM t%s WHERE id = \$1', tbl) USING (1 + floor(random() * 20000))::bigint;
      END IF;
      GET DIAGNOSTICS rc = ROW_COUNT;
      done_rows := done_rows + rc;
    END LOOP;
    COMMIT;
  END LOOP;
END \$\$;"
}

# Seconds until the slot's confirmed position reaches `end_lsn`. One session polls every
# 20 ms on the server (committing, so it holds no snapshot); a new psql every poll would take
# a noticeable share of the cores being measured.
wait_slot() { # "psql command for the database" slot end_lsn
    local start; start=$(now)
    $1 -c "DO \$\$ BEGIN
      WHILE NOT coalesce((SELECT confirmed_flush_lsn >= '$3'::pg_lsn FROM pg_replication_slots
                          WHERE slot_name = '$2'), false) LOOP
        PERFORM pg_sleep(0.02); COMMIT;
      END LOOP; END \$\$"
    echo "$(now) - $start" | bc -l
}
