#include "sim_database.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>
#include <stdexcept>

namespace rep::oracle::sim {
namespace {

constexpr size_t kOnlineGroups = 3;
constexpr const char* kSentinel = "REPLICATOR_SENTINEL";

std::string quote_literal(const Value& v) {
    if (!v) {
        return "NULL";
    }
    std::string out = "'";
    for (char c : *v) {
        out += c;
        if (c == '\'') {
            out += '\'';
        }
    }
    return out + "'";
}

std::string term(const std::string& column, const Value& v) {
    return v ? fmt::format("\"{}\" = {}", column, quote_literal(v))
             : fmt::format("\"{}\" IS NULL", column);
}

}  // namespace

std::string db_time_text(int64_t utc_seconds) {
    auto t = static_cast<std::time_t>(utc_seconds + kDbUtcOffsetSeconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string LogState::online_name() const {
    return fmt::format("/u01/oradata/redo_t{}_g{}.log", thread, sequence % kOnlineGroups + 1);
}

std::string LogState::archived_name() const {
    return fmt::format("/u01/arch/t{}_s{}.arc", thread, sequence);
}

Database::Database(uint64_t seed, int threads)
    : rng_(seed), flush_from_(threads + 1, 0), last_redo_(threads + 1, clock_) {
    for (int t = 1; t <= threads; ++t) {
        logs_.push_back(LogState{t, 1, 1, std::nullopt});
    }
    record_state(0, "");
}

void Database::create_table(const std::string& owner, const std::string& name,
                            std::vector<std::string> columns, bool log_all_columns) {
    tables_[owner + "." + name] = Table{owner, name, std::move(columns), {}, log_all_columns};
    states_[owner][""] = state(owner);
}

Table& Database::table(const std::string& owner, const std::string& name) {
    return tables_.at(owner + "." + name);
}

const Table& Database::table(const std::string& owner, const std::string& name) const {
    return tables_.at(owner + "." + name);
}

std::vector<const Table*> Database::tables(const std::string& owner, bool with_sentinel) const {
    std::vector<const Table*> out;
    for (const auto& [name, t] : tables_) {
        if (t.owner == owner && (with_sentinel || t.name != kSentinel)) {
            out.push_back(&t);
        }
    }
    return out;
}

uint64_t Database::next_scn() {
    // Several records may share an SCN (on one thread or several).
    if (rng_() % 4 != 0) {
        ++clock_;
    }
    return clock_;
}

std::string Database::new_row_id() {
    return fmt::format("AAAR3sAAE{:09X}", ++row_ids_);
}

std::string Database::begin(int thread) {
    // A transaction holds an undo segment slot (USN, slot) while it is open; the sequence
    // makes the XID unique. Slots are reused, so prefixes repeat over time.
    std::set<std::string> used;
    for (const auto& [xid, txn] : txns_) {
        used.insert(xid.substr(0, 8));
    }
    std::string prefix;
    for (uint32_t usn = 1;; ++usn) {
        // RAWTOHEX of the XID: USN and slot are little-endian 2-byte fields.
        prefix = fmt::format("{:02X}00{:02X}00", usn % 7 + 1, usn / 7 + 1);
        if (!used.contains(prefix)) {
            break;
        }
    }
    std::string xid = fmt::format("{}{:08X}", prefix, ++next_usn_);
    txns_[xid] = Txn{thread, 0, {}};
    return xid;
}

void Database::write(const std::string& xid, int op, bool rollback, const Change& change,
                     const std::string& sql) {
    Txn& txn = txns_.at(xid);
    // A commit takes a new SCN, so a snapshot AS OF SCN S holds exactly the commits at or
    // below S; on RAC now and then the same SCN as the previous commit on another thread.
    uint64_t scn = 0;
    if (op != kOpCommit) {
        scn = next_scn();
    } else if (last_commit_.second != 0 && last_commit_.second != txn.thread &&
               last_commit_.first == clock_ && rng_() % 3 != 0) {
        scn = clock_;
    } else {
        scn = ++clock_;
    }
    if (op == kOpCommit) {
        last_commit_ = {scn, txn.thread};
    }
    if (txn.first_scn == 0) {
        txn.first_scn = scn;
    }
    uint64_t sequence = 0;
    for (const LogState& l : logs_) {
        if (l.thread == txn.thread && !l.next_scn) {
            sequence = l.sequence;
        }
    }
    std::string row_id = change.after    ? change.after->row_id
                         : change.before ? change.before->row_id
                                         : "";
    by_log_[{txn.thread, sequence}].push_back(records_.size());
    records_.push_back(Record{scn, txn.thread, sequence, xid, txn.first_scn, op, rollback,
                              change.owner, change.table, row_id, sql, ++order_, false,
                              std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()});
}

std::string Database::render(const Table& t, const Change& c) const {
    std::string name = fmt::format("\"{}\".\"{}\"", t.owner, t.name);
    if (!c.before) {
        std::string cols;
        std::string vals;
        for (size_t i = 0; i < t.columns.size(); ++i) {
            cols += fmt::format("{}\"{}\"", i ? "," : "", t.columns[i]);
            vals += fmt::format("{}{}", i ? "," : "", quote_literal(c.after->values[i]));
        }
        return fmt::format("insert into {}({}) values ({});", name, cols, vals);
    }
    if (!c.after) {
        std::string where;
        for (size_t i = 0; i < t.columns.size(); ++i) {
            where += fmt::format("{}{}", i ? " and " : "", term(t.columns[i], c.before->values[i]));
        }
        return fmt::format("delete from {} where {};", name, where);
    }
    // Supplemental logging of the primary key: the WHERE has the old key and the old values
    // of the columns the statement sets (of all columns with log_all_columns).
    std::string set;
    std::string where = term(t.columns[0], c.before->values[0]);
    for (size_t i : c.assigned) {
        set += fmt::format("{}\"{}\" = {}", set.empty() ? "" : ", ", t.columns[i],
                           quote_literal(c.after->values[i]));
        if (i != 0 && !t.log_all_columns) {
            where += " and " + term(t.columns[i], c.before->values[i]);
        }
    }
    for (size_t i = 1; i < t.columns.size() && t.log_all_columns; ++i) {
        where += " and " + term(t.columns[i], c.before->values[i]);
    }
    return fmt::format("update {} set {} where {};", name, set, where);
}

std::vector<std::string> Database::touched_keys(const Change& c) {
    std::vector<std::string> out;
    for (const std::optional<Row>* image : {&c.before, &c.after}) {
        if (*image && (*image)->values[0]) {
            std::string k = c.owner + "." + c.table + "|" + *(*image)->values[0];
            if (out.empty() || out[0] != k) {
                out.push_back(std::move(k));
            }
        }
    }
    return out;
}

void Database::add_change(Txn& txn, Change c) {
    for (const std::string& k : touched_keys(c)) {
        ++txn.touched[k];
    }
    txn.changes.push_back(std::move(c));
}

void Database::drop_last_change(Txn& txn) {
    for (const std::string& k : touched_keys(txn.changes.back())) {
        if (--txn.touched[k] == 0) {
            txn.touched.erase(k);
        }
    }
    txn.changes.pop_back();
}

const Row* Database::row(const std::string& xid, const std::string& owner, const std::string& table,
                         const std::string& key) const {
    const Txn& txn = txns_.at(xid);
    bool touched = txn.touched.contains(owner + "." + table + "|" + key);
    for (auto it = txn.changes.rbegin(); touched && it != txn.changes.rend(); ++it) {
        if (it->owner != owner || it->table != table) {
            continue;
        }
        if (it->after && *it->after->values[0] == key) {
            return &*it->after;
        }
        if (it->before && *it->before->values[0] == key) {
            return nullptr;
        }
    }
    const Table& t = tables_.at(owner + "." + table);
    auto it = t.rows.find(key);
    return it == t.rows.end() ? nullptr : &it->second;
}

bool Database::locked(const std::string& owner, const std::string& table,
                      const std::string& key) const {
    for (const auto& [xid, txn] : txns_) {
        for (const Change& c : txn.changes) {
            if (c.owner == owner && c.table == table &&
                ((c.before && *c.before->values[0] == key) ||
                 (c.after && *c.after->values[0] == key))) {
                return true;
            }
        }
    }
    return false;
}

std::vector<std::string> Database::open_transactions() const {
    std::vector<std::string> out;
    for (const auto& [xid, txn] : txns_) {
        out.push_back(xid);
    }
    return out;
}

void Database::insert(const std::string& xid, const std::string& owner, const std::string& table,
                      std::vector<Value> values) {
    const Table& t = tables_.at(owner + "." + table);
    if (row(xid, owner, table, *values[0]) != nullptr) {
        throw std::logic_error("sim: duplicate key " + *values[0]);
    }
    Change c{owner, table, *values[0], std::nullopt, Row{std::move(values), new_row_id()}, {}};
    write(xid, kOpInsert, false, c, render(t, c));
    add_change(txns_.at(xid), std::move(c));
}

void Database::update(const std::string& xid, const std::string& owner, const std::string& table,
                      const std::string& key, const std::map<size_t, Value>& changes) {
    const Table& t = tables_.at(owner + "." + table);
    const Row* old = row(xid, owner, table, key);
    if (old == nullptr) {
        throw std::logic_error("sim: no row " + key);
    }
    Change c{owner, table, key, *old, *old, {}};
    for (const auto& [i, v] : changes) {
        c.after->values[i] = v;
        c.assigned.push_back(i);
    }
    write(xid, kOpUpdate, false, c, render(t, c));
    add_change(txns_.at(xid), std::move(c));
}

void Database::remove(const std::string& xid, const std::string& owner, const std::string& table,
                      const std::string& key) {
    const Table& t = tables_.at(owner + "." + table);
    const Row* old = row(xid, owner, table, key);
    if (old == nullptr) {
        throw std::logic_error("sim: no row " + key);
    }
    Change c{owner, table, key, *old, std::nullopt, {}};
    write(xid, kOpDelete, false, c, render(t, c));
    add_change(txns_.at(xid), std::move(c));
}

void Database::undo(const std::string& xid, const Change& change) {
    // A compensation record: the inverse statement, flagged ROLLBACK = 1, on the same row.
    const Table& t = tables_.at(change.owner + "." + change.table);
    Change inverse{change.owner, change.table,  change.key,
                   change.after, change.before, change.assigned};
    int op = !change.before ? kOpDelete : !change.after ? kOpInsert : kOpUpdate;
    write(xid, op, true, change, render(t, inverse));
}

void Database::failed_insert(const std::string& xid, const std::string& owner,
                             const std::string& table, std::vector<std::vector<Value>> rows) {
    size_t mark = savepoint(xid);
    for (std::vector<Value>& r : rows) {
        insert(xid, owner, table, std::move(r));
    }
    rollback_to(xid, mark);  // statement-level rollback: the same undo records
}

size_t Database::savepoint(const std::string& xid) {
    return txns_.at(xid).changes.size();
}

void Database::rollback_to(const std::string& xid, size_t savepoint) {
    Txn& txn = txns_.at(xid);
    while (txn.changes.size() > savepoint) {
        undo(xid, txn.changes.back());
        drop_last_change(txn);
    }
}

void Database::commit(const std::string& xid) {
    Txn txn = txns_.at(xid);
    if (txn.first_scn != 0) {
        for (const Change& c : txn.changes) {
            Table& t = tables_.at(c.owner + "." + c.table);
            if (c.before) {
                t.rows.erase(*c.before->values[0]);
            }
            if (c.after) {
                t.rows[*c.after->values[0]] = *c.after;
            }
        }
        write(xid, kOpCommit, false, Change{}, "commit;");
        record_state(records_.back().scn, xid);
    }
    txns_.erase(xid);
    flush(txn.thread);  // a commit waits for LGWR
}

void Database::rollback(const std::string& xid) {
    Txn& txn = txns_.at(xid);
    int thread = txn.thread;
    if (txn.first_scn != 0) {
        rollback_to(xid, 0);
        write(xid, kOpRollback, false, Change{}, "rollback;");
    }
    txns_.erase(xid);
    flush(thread);
}

void Database::record_state(uint64_t /*scn*/, const std::string& xid) {
    if (!record_states_ && !xid.empty()) {
        return;
    }
    std::set<std::string> owners;
    for (const auto& [name, t] : tables_) {
        owners.insert(t.owner);
    }
    for (const std::string& owner : owners) {
        states_[owner][xid] = state(owner);
    }
}

void Database::sentinel_beat(const std::string& owner, const std::string& scn) {
    for (size_t t = 1; t < last_redo_.size(); ++t) {
        std::string xid = begin(static_cast<int>(t));
        if (row(xid, owner, kSentinel, "1") != nullptr) {
            update(xid, owner, kSentinel, "1", {{1, scn}});
        } else {
            insert(xid, owner, kSentinel, {std::string("1"), scn});
        }
        commit(xid);
    }
}

std::string Database::state(const std::string& owner) const {
    std::string out;
    for (const auto& [name, t] : tables_) {
        if (t.owner != owner || t.name == kSentinel) {
            continue;
        }
        for (const auto& [key, r] : t.rows) {
            out += t.name;
            for (const Value& v : r.values) {
                out += v ? "|" + *v : "|NULL";
            }
            out += "\n";
        }
    }
    return out;
}

const std::map<std::string, std::string>& Database::states(const std::string& owner) const {
    return states_.at(owner);
}

std::map<std::string, uint64_t> Database::open_first_scns() const {
    std::map<std::string, uint64_t> out;
    for (const auto& [xid, txn] : txns_) {
        if (txn.first_scn != 0) {
            out[xid] = txn.first_scn;
        }
    }
    return out;
}

void Database::log_switch(int thread) {
    flush(thread);
    uint64_t sequence = 0;
    for (LogState& l : logs_) {
        if (l.thread == thread && !l.next_scn) {
            l.next_scn = ++clock_;
            sequence = l.sequence;
        }
    }
    // The group the new log goes into held sequence - 2: it is archived first (the switch
    // waits for the archiver), then overwritten.
    for (LogState& l : logs_) {
        if (l.thread == thread && l.online && l.sequence + kOnlineGroups <= sequence + 1) {
            l.archived = true;
            l.online = false;
        }
    }
    logs_.push_back(LogState{thread, sequence + 1, clock_, std::nullopt});
}

void Database::archive() {
    for (LogState& l : logs_) {
        if (l.next_scn) {
            l.archived = true;
        }
    }
}

void Database::purge(uint64_t below) {
    for (LogState& l : logs_) {
        if (l.archived && !l.online && l.next_scn && *l.next_scn <= below) {
            l.purged = true;
        }
    }
}

void Database::flush(int thread) {
    for (size_t i = flush_from_[thread]; i < records_.size(); ++i) {
        if (records_[i].thread == thread) {
            records_[i].flushed = true;
            last_redo_[thread] = std::max(last_redo_[thread], records_[i].scn);
        }
    }
    flush_from_[thread] = records_.size();
}

std::vector<RedoThread> Database::threads() const {
    std::vector<RedoThread> out;
    for (size_t t = 1; t < last_redo_.size(); ++t) {
        out.push_back(RedoThread{static_cast<int>(t), true, true, 0, last_redo_[t]});
    }
    return out;
}

std::vector<const Record*> Database::records(int thread, uint64_t sequence) const {
    std::vector<const Record*> out;
    auto it = by_log_.find({thread, sequence});
    if (it == by_log_.end()) {
        return out;
    }
    for (size_t i : it->second) {
        if (records_[i].flushed) {
            out.push_back(&records_[i]);
        }
    }
    return out;
}

}  // namespace rep::oracle::sim
