#pragma once

// A random workload on the simulated database: interleaved transactions on several threads
// over APP.T1 (ID, N, S), APP.T2 (ID, V) and OTHER.X (ID, V), with inserts, updates (some
// changing the key), deletes, savepoints rolled back or kept, failed multi-row inserts,
// commits, full rollbacks, log switches, archiving and SCN ticks. Values include NULLs,
// quotes, SQL-like text, multi-byte characters and long strings.

#include "sim_database.h"

#include <random>
#include <string>

namespace rep::oracle::sim {

class Workload {
public:
    Workload(Database& db, uint64_t seed, int threads);

    // Creates the tables.
    static void create_tables(Database& db);
    void step();
    // Ends every open transaction, then (with `heartbeats`) commits on each thread so that
    // all of it is flushed and below every thread's LAST_REDO_SCN; without, the source goes
    // quiet with its last commits at the threads' LAST_REDO_SCN (only a sentinel heartbeat
    // lets a reader mine them).
    void finish(bool heartbeats = true);

private:
    std::string key();
    Value text();
    void dml(const std::string& xid);

    Database& db_;
    std::mt19937_64 rng_;
    int threads_;
    uint64_t keys_ = 0;
};

}  // namespace rep::oracle::sim
