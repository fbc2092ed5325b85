// Steady-state lag: writes a fixed rate of row changes to the source (inserts into t0..t9 in
// transactions every 10 ms) and, in the same transactions, stamps a heartbeat row with the
// source commit's clock; a second thread polls the target's heartbeat every 5 ms and records
// how far it trails (target clock - stamped source time; both servers share this machine's
// clock). Only samples taken while the writer runs count. Prints p50/p99/max lag in ms.
//
//   steady_lag SOURCE_CONNINFO TARGET_CONNINFO ROWS_PER_SECOND SECONDS

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

PGconn* connect_or_die(const char* conninfo) {
    PGconn* c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        std::fprintf(stderr, "connect: %s", PQerrorMessage(c));
        std::exit(1);
    }
    return c;
}

void exec_or_die(PGconn* c, const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        std::fprintf(stderr, "%s: %s", sql.substr(0, 80).c_str(), PQresultErrorMessage(r));
        std::exit(1);
    }
    PQclear(r);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s SOURCE TARGET ROWS_PER_SECOND SECONDS\n", argv[0]);
        return 2;
    }
    PGconn* src = connect_or_die(argv[1]);
    PGconn* dst = connect_or_die(argv[2]);
    const int rate = std::atoi(argv[3]);
    const int seconds = std::atoi(argv[4]);
    const int per_tick = std::max(1, rate / 100);  // one transaction every 10 ms
    // The walsender sends only flushed WAL: with synchronous_commit off the source would hold
    // each commit up to wal_writer_delay (200 ms) before any consumer could see it.
    exec_or_die(src, "SET synchronous_commit = on");
    std::atomic<bool> done{false};
    // Sampling starts half a second into the load, once the heartbeat reflects it (before,
    // it shows the time since setup), and stops with the writer.
    std::atomic<bool> writing{false};
    std::vector<double> lags;
    std::thread poller([&] {
        while (!done) {
            PGresult* r = PQexec(dst,
                                 "SELECT extract(epoch FROM clock_timestamp() - ts) * 1000 FROM "
                                 "heartbeat WHERE id = 1");
            if (writing && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
                lags.push_back(std::atof(PQgetvalue(r, 0, 0)));
            }
            PQclear(r);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    auto start = std::chrono::steady_clock::now();
    auto next = start;
    long long id = 10000000;
    long long ticks = 0;
    long long late = 0;
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(seconds)) {
        std::string sql = "BEGIN;";
        for (int i = 0; i < per_tick; ++i) {
            ++id;
            sql += "INSERT INTO t" + std::to_string(id % 10) + " VALUES (" + std::to_string(id) +
                   ", 0, repeat('x', 200));";
        }
        sql += "UPDATE heartbeat SET ts = clock_timestamp() WHERE id = 1; COMMIT;";
        exec_or_die(src, sql);
        ++ticks;
        if (!writing && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(500)) {
            writing = true;
        }
        next += std::chrono::milliseconds(10);
        auto now = std::chrono::steady_clock::now();
        if (now < next) {
            std::this_thread::sleep_until(next);
        } else {
            ++late;
        }
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Samples after the writer stopped would only measure idleness.
    writing = false;
    done = true;
    poller.join();
    std::sort(lags.begin(), lags.end());
    auto pct = [&](double p) {
        return lags.empty() ? 0.0
                            : lags[std::min(lags.size() - 1, static_cast<size_t>(p * lags.size()))];
    };
    std::printf(
        "achieved_rows_per_s=%.0f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f samples=%zu "
        "late_ticks=%lld\n",
        static_cast<double>(ticks) * per_tick / elapsed, pct(0.50), pct(0.99),
        lags.empty() ? 0.0 : lags.back(), lags.size(), late);
    PQfinish(src);
    PQfinish(dst);
    return 0;
}
