#pragma once

// Workloads and probes the parallel-apply tests of both sources share: a record of which
// target connections wrote when, and a random history over a unique index.

#include "harness.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace harness {

// Slows every write to `table` on the target (half a millisecond per row), and notes its
// connection, transaction and time in `seen` (target only), so that afterwards a test can
// tell whether two connections were ever writing at once: a record of every write, where
// sampling pg_stat_activity could miss a short overlap.
inline void slow_and_noted(Sql& target, const std::string& table) {
    target.exec(
        "CREATE TABLE seen(pid int, xid bigint, at timestamptz);"
        "CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "  PERFORM pg_sleep(0.0005);"
        "  INSERT INTO seen VALUES (pg_backend_pid(), txid_current(), clock_timestamp());"
        "  RETURN NEW; END $$;"
        "CREATE TRIGGER slow_row BEFORE INSERT OR UPDATE ON " +
        table + " FOR EACH ROW EXECUTE FUNCTION slow_row();");
}

// Pairs of target transactions on different connections whose writes (slow_and_noted)
// interleave in time.
inline long overlapping_writes(Sql& target) {
    return std::stol(*target.value(
        "WITH t AS (SELECT pid, xid, min(at) s, max(at) e FROM seen GROUP BY pid, xid) "
        "SELECT count(*) FROM t a JOIN t b ON a.pid < b.pid AND a.s < b.e AND b.s < a.e"));
}

// Source transactions over table(id, email UNIQUE, n) that give rows values, take them away
// (updates, deletes) and swap them through NULL, mostly taking the value freed last so that a
// value is soon taken again; `n` is changed on its own too. The statements are SQL both
// PostgreSQL and MariaDB take, and each succeeds on the source (the generator tracks the
// state).
struct UniqueWorkload {
    std::string table;
    std::map<int, std::string> email_of;  // rows; "NULL" for none
    std::set<std::string> used;
    std::vector<int> ids;
    int next_id = 0;
    std::vector<std::string> freed;  // most recently freed last

    // Mostly the value freed last, so that a value is often taken again right after.
    std::string free_email(std::mt19937& rng) {
        while (!freed.empty() && used.contains(freed.back())) {
            freed.pop_back();
        }
        if (!freed.empty() && rng() % 4 != 0) {
            std::string e = freed.back();
            freed.pop_back();
            return e;
        }
        for (int tries = 0; tries < 20; ++tries) {
            std::string e = "'e" + std::to_string(rng() % 3000) + "'";
            if (!used.contains(e)) {
                return e;
            }
        }
        return "NULL";
    }
    void set(int id, const std::string& email) {
        if (email_of.contains(id) && email_of[id] != "NULL") {
            used.erase(email_of[id]);
            freed.push_back(email_of[id]);
        }
        email_of[id] = email;
        if (email != "NULL") {
            used.insert(email);
        }
    }
    // Rows 0..n-1 with values e0..e(n-1), already there when replication starts.
    std::string seed(int n) {
        std::string sql;
        for (int i = 0; i < n; ++i) {
            std::string e = "'e" + std::to_string(i) + "'";
            sql +=
                "INSERT INTO " + table + " VALUES (" + std::to_string(next_id) + ", " + e + ", 0);";
            set(next_id, e);
            ids.push_back(next_id++);
        }
        freed.clear();
        return sql;
    }
    // A row with a value never used before.
    std::string insert_new(int t) {
        int id = next_id++;
        std::string e = "'new" + std::to_string(t) + "'";
        set(id, e);
        ids.push_back(id);
        return "INSERT INTO " + table + " VALUES (" + std::to_string(id) + ", " + e + ", 0);";
    }
    // The statements of one source transaction (without its COMMIT).
    std::string step(std::mt19937& rng, int t) {
        uint32_t dice = rng() % 100;
        std::string n = std::to_string(t);
        if (dice < 40 || ids.size() < 2) {
            int id = next_id++;
            std::string e = rng() % 20 == 0 ? "NULL" : free_email(rng);
            set(id, e);
            ids.push_back(id);
            return "INSERT INTO " + table + " VALUES (" + std::to_string(id) + ", " + e + ", " + n +
                   ");";
        }
        size_t at = rng() % ids.size();
        int id = ids[at];
        std::string where = " WHERE id = " + std::to_string(id) + ";";
        if (dice < 55) {
            set(id, "NULL");
            ids[at] = ids.back();
            ids.pop_back();
            email_of.erase(id);
            return "DELETE FROM " + table + where;
        }
        if (dice < 75) {  // a new value: the old one is free for others
            std::string e = free_email(rng);
            set(id, e);
            return "UPDATE " + table + " SET email = " + e + where;
        }
        if (dice < 90) {  // two rows swap their values
            int other = ids[(at + 1 + rng() % (ids.size() - 1)) % ids.size()];
            std::string a = email_of[id];
            std::string b = email_of[other];
            set(id, "NULL");
            set(other, a);
            set(id, b);
            std::string w2 = " WHERE id = " + std::to_string(other) + ";";
            return "UPDATE " + table + " SET email = NULL" + where + "UPDATE " + table +
                   " SET email = " + a + w2 + "UPDATE " + table + " SET email = " + b + where;
        }
        return "UPDATE " + table + " SET n = " + n + where;
    }
};

}  // namespace harness
