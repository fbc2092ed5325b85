#include "sim_workload.h"

#include <map>
#include <vector>

namespace rep::oracle::sim {

Workload::Workload(Database& db, uint64_t seed, int threads)
    : db_(db), rng_(seed * 7919 + 1), threads_(threads) {}

void Workload::create_tables(Database& db) {
    // T1's keys change (which needs all columns logged); T2 has the primary key logged only.
    db.create_table("APP", "T1", {"ID", "N", "S"}, true);
    db.create_table("APP", "T2", {"ID", "V"});
    db.create_table("OTHER", "X", {"ID", "V"}, true);
    db.create_table("APP", "REPLICATOR_SENTINEL", {"KEYCOL", "LASTSCN"});  // MOLT's heartbeat
}

void Workload::step() {
    unsigned pick = rng_() % 100;
    std::vector<std::string> open = db_.open_transactions();
    if (open.size() < 4 && (open.empty() || pick < 15)) {
        db_.begin(1 + static_cast<int>(rng_() % threads_));
        return;
    }
    if (pick < 18) {
        db_.log_switch(1 + static_cast<int>(rng_() % threads_));
        return;
    }
    if (pick < 20) {
        db_.archive();
        return;
    }
    if (pick < 22) {
        db_.tick();
        return;
    }
    std::string xid = open[rng_() % open.size()];
    if (pick < 27) {
        db_.commit(xid);
    } else if (pick < 30) {
        // Two commits back to back on different threads: on RAC they may share an SCN.
        int thread = db_.thread_of(xid);
        db_.commit(xid);
        for (const std::string& other : db_.open_transactions()) {
            if (db_.thread_of(other) != thread) {
                db_.commit(other);
                break;
            }
        }
    } else if (pick < 32) {
        db_.rollback(xid);
    } else if (pick < 36) {
        size_t mark = db_.savepoint(xid);
        dml(xid);
        dml(xid);
        if (rng_() % 2 == 0) {
            db_.rollback_to(xid, mark);
        }
    } else if (pick < 39) {
        db_.failed_insert(xid, "APP", "T2", {{key(), text()}, {key(), text()}});
    } else {
        dml(xid);
    }
}

void Workload::finish(bool heartbeats) {
    for (const std::string& xid : db_.open_transactions()) {
        db_.commit(xid);
    }
    if (!heartbeats) {
        return;
    }
    for (int t = 1; t <= threads_; ++t) {
        std::string xid = db_.begin(t);
        db_.insert(xid, "OTHER", "X", {key(), text()});
        db_.tick();  // past the last commits: a heartbeat never shares their SCN
        db_.commit(xid);
    }
}

std::string Workload::key() {
    return std::to_string(++keys_);
}

Value Workload::text() {
    switch (rng_() % 6) {
        case 0:
            return std::nullopt;
        case 1:
            return "it's \"quoted\" and ROWID = 'x' ; ||";
        case 2:
            return "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 " + std::to_string(rng_() % 1000);
        case 3:
            return std::string(50 + rng_() % 100, 'x') + "''" + std::string(30, 'y');
        case 4:
            return "-." + std::to_string(rng_() % 100);
        default:
            return std::to_string(rng_() % 100000);
    }
}

void Workload::dml(const std::string& xid) {
    static const char* kTables[] = {"T1", "T2", "T1", "X"};
    std::string table = kTables[rng_() % 4];
    std::string owner = table == "X" ? "OTHER" : "APP";
    size_t width = db_.table(owner, table).columns.size();
    // A key this transaction may touch: its own, or a committed one nobody holds.
    std::vector<std::string> keys;
    for (const auto& [k, r] : db_.table(owner, table).rows) {
        if (!db_.locked(owner, table, k)) {
            keys.push_back(k);
        }
    }
    unsigned op = rng_() % 10;
    if (keys.empty() || op < 4) {
        std::vector<Value> values{key()};
        for (size_t i = 1; i < width; ++i) {
            values.push_back(text());
        }
        db_.insert(xid, owner, table, values);
        return;
    }
    std::string k = keys[rng_() % keys.size()];
    if (op < 6) {
        db_.remove(xid, owner, table, k);
        return;
    }
    std::map<size_t, Value> changes;
    if (op == 9 && db_.table(owner, table).log_all_columns) {
        changes[0] = key();  // the primary key changes
    }
    changes[1 + rng_() % (width - 1)] = text();
    db_.update(xid, owner, table, k, changes);
}

}  // namespace rep::oracle::sim
