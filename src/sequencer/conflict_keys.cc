#include "sequencer/conflict_keys.h"

#include "base/error.h"
#include "base/hash.h"
#include "sequencer/schedule.h"

#include <algorithm>
#include <unordered_set>

namespace rep::sequencer {
namespace {

// A referenced table and columns, "schema.table(a,b)": the namespace of its rows' keys.
std::string referenced(const std::string& parent, const std::vector<std::string>& columns) {
    std::string out = parent + "(";
    for (const std::string& c : columns) {
        out += c + ",";
    }
    return out + ")";
}

// What a row's values at a tie's columns say: the referenced row (its key in `key`), no row
// (a NULL: the foreign key does not apply), or unknown (a value the source did not send).
enum class Ref { kRow, kNone, kUnknown };

Ref ref_of(const std::vector<Datum>& values, const std::vector<int>& source, uint64_t tag,
           uint64_t& key) {
    uint64_t h = tag;
    for (int src : source) {
        if (src < 0 || static_cast<size_t>(src) >= values.size() ||
            values[static_cast<size_t>(src)].absent()) {
            return Ref::kUnknown;
        }
        const Datum& d = values[static_cast<size_t>(src)];
        if (d.is_null()) {
            return Ref::kNone;
        }
        h = hash_combine(h, std::hash<std::string>{}(d.text));
    }
    key = h;
    return Ref::kRow;
}

// What a row's values say of a unique index's entry: a value (its key in `key`), none (a NULL
// where the index holds NULLs distinct), not sent (no column sent) or unknown (some sent).
enum class Entry { kValue, kNone, kNotSent, kUnknown };

Entry entry_of(const std::vector<Datum>& values, const std::vector<int>& source,
               bool nulls_distinct, uint64_t tag, uint64_t& key) {
    constexpr uint64_t kNull = 0x6e756c6c;  // NULLS NOT DISTINCT: a value like any other
    uint64_t h = tag;
    size_t absent = 0;
    bool null = false;
    for (int src : source) {
        if (src < 0 || static_cast<size_t>(src) >= values.size() ||
            values[static_cast<size_t>(src)].absent()) {
            ++absent;
            continue;
        }
        const Datum& d = values[static_cast<size_t>(src)];
        null = null || d.is_null();
        h = hash_combine(h, d.is_null() ? kNull : std::hash<std::string>{}(d.text));
    }
    if (absent > 0) {
        return absent == source.size() ? Entry::kNotSent : Entry::kUnknown;
    }
    if (null && nulls_distinct) {
        return Entry::kNone;
    }
    key = h;
    return Entry::kValue;
}

}  // namespace

ConflictKeys::ConflictKeys(target::TableCatalog& catalog, util::TargetSession& session,
                           bool table_groups, TiesLoader load_ties, Handled handled)
    : catalog_(catalog),
      session_(session),
      table_groups_enabled_(table_groups),
      load_ties_(std::move(load_ties)),
      handled_(std::move(handled)) {}

bool ConflictKeys::add(const ChangeItem& changes, std::vector<uint64_t>& keys) {
    try {
        bool complete = true;
        for (const Mutation& m : changes.mutations) {
            const Plan& plan = plan_for(m);
            if (plan.whole != 0) {
                keys.push_back(plan.whole);
                continue;
            }
            const target::TableMapping& mapping = *plan.mapping;
            auto key = mapping.key_hash(m.values);
            auto old_key = m.old_values.empty() ? key : mapping.key_hash(m.old_values);
            if (!key || !old_key) {
                return false;  // a key is missing: the worker reports it in context
            }
            keys.push_back(Schedule::exclusive(*key));
            if (*old_key != *key) {
                keys.push_back(Schedule::exclusive(*old_key));
            }
            if (!plan.plain) {
                add_uniques(plan, m, keys);
                complete = complete && add_ties(plan, m, keys);
            }
        }
        // Ties read anew: groups in flight hold keys by the old ones, so this transaction
        // runs alone, and every later one is keyed by the new ties only.
        bool reread = reread_;
        reread_ = false;
        return complete && !reread;
    } catch (const Error& e) {
        if (e.retryable()) {
            throw;
        }
        // An unknown table or schema drift: the transaction runs alone, so its worker stops
        // with the same message (and after the same commits) as with one connection.
        return false;
    }
}

bool ConflictKeys::add_ties(const Plan& plan, const Mutation& m,
                            std::vector<uint64_t>& keys) const {
    bool upsert = m.kind == MutationKind::kUpsert;
    uint64_t key = 0;
    auto hold_shared = [&](Ref ref, const Tie& t) {
        if (ref == Ref::kRow) {
            keys.push_back(Schedule::shared(key));
        } else if (ref == Ref::kUnknown) {
            keys.push_back(Schedule::shared(t.removal));
        }
    };
    for (const Tie& t : plan.refers) {
        if (std::find(t.source.begin(), t.source.end(), -1) != t.source.end()) {
            // A referencing column the source does not have: the target fills it in (a
            // default), and which parent that names is not known here.
            return false;
        }
        // A child row: the parent it refers to now (an upsert's new values; one not sent is
        // unchanged, and as unknown as the old one)...
        if (upsert) {
            hold_shared(ref_of(m.values, t.source, t.tag, key), t);
        }
        // ...and the one it referred to before: a delete's, or an update's old row if the
        // source sent it. An upsert without one may be an UPDATE that changed the reference.
        const std::vector<Datum>* before = !upsert                ? &m.values
                                           : m.old_values.empty() ? nullptr
                                                                  : &m.old_values;
        hold_shared(before != nullptr ? ref_of(*before, t.source, t.tag, key) : Ref::kUnknown, t);
    }
    for (const Tie& t : plan.referred) {
        // A parent row: an upsert may create the referenced row, a delete or a key change
        // removes one (and holds `removal`, which children that may have referred to any
        // row hold shared).
        if (ref_of(m.values, t.source, t.tag, key) != Ref::kRow) {
            return false;
        }
        keys.push_back(Schedule::exclusive(key));
        if (!upsert) {
            keys.push_back(Schedule::exclusive(t.removal));
            continue;
        }
        uint64_t old = key;
        if (!m.old_values.empty() && ref_of(m.old_values, t.source, t.tag, old) != Ref::kRow) {
            return false;
        }
        if (old != key) {
            keys.push_back(Schedule::exclusive(old));
            keys.push_back(Schedule::exclusive(t.removal));
        }
    }
    return true;
}

void ConflictKeys::add_uniques(const Plan& plan, const Mutation& m, std::vector<uint64_t>& keys) {
    bool upsert = m.kind == MutationKind::kUpsert;
    for (const Unique& u : plan.uniques) {
        if (!u.per_value) {
            keys.push_back(Schedule::exclusive(u.any));
            continue;
        }
        // The entry the change gives its row: none for a delete; an upsert's new values, where
        // columns not sent are ones the change leaves as they were (an unchanged TOASTed value,
        // a column outside MySQL's minimal row image or Oracle's SET).
        uint64_t taken = 0;
        Entry now =
            upsert ? entry_of(m.values, u.source, u.nulls_distinct, u.tag, taken) : Entry::kNone;
        if (now == Entry::kNotSent) {
            continue;  // the entry stays as it was: neither given nor freed
        }
        // The entry it frees: none for an insert; the old row's where the source sent it (a
        // delete's old row, an update's whole old row); unknown otherwise (PostgreSQL sends an
        // UPDATE's old row only with REPLICA IDENTITY FULL, and a key-only one for a DELETE).
        uint64_t freed = 0;
        Entry before = Entry::kUnknown;
        if (upsert && m.inserted) {
            before = Entry::kNone;
        } else if (!upsert || !m.old_values.empty()) {
            before = entry_of(upsert ? m.old_values : m.values, u.source, u.nulls_distinct, u.tag,
                              freed);
        }
        if (now == Entry::kUnknown || before == Entry::kUnknown || before == Entry::kNotSent) {
            keys.push_back(Schedule::exclusive(u.any));
            continue;
        }
        bool holds = false;
        if (now == Entry::kValue) {
            keys.push_back(Schedule::exclusive(taken));
            holds = true;
        }
        if (before == Entry::kValue && !(now == Entry::kValue && freed == taken)) {
            keys.push_back(Schedule::exclusive(freed));
            holds = true;
        }
        if (holds) {
            keys.push_back(Schedule::shared(u.any));
        }
    }
}

const ConflictKeys::Plan& ConflictKeys::plan_for(const Mutation& m) {
    auto it = plans_.find(m.relation.get());
    if (it == plans_.end()) {
        // The catalog keeps the mapping alive.
        Plan plan = make_plan(*catalog_.resolve(session_, m.relation));
        it = plans_.emplace(m.relation.get(), std::move(plan)).first;
    }
    return it->second;
}

ConflictKeys::Plan ConflictKeys::make_plan(const target::TableMapping& mapping) {
    Plan plan;
    plan.mapping = &mapping;
    const target::TargetTable& t = mapping.target();
    if (!t.order_sensitive) {
        return plan;
    }
    plan.plain = false;
    std::string name = t.name.schema.schema + "." + t.name.table;
    const Placement* placed = &place(name);
    // Table-level handlers may change any value after the keys were taken from the source's.
    bool handled = handled_ && handled_(t);
    if (handled && placed->per_row &&
        std::any_of(ties_.foreign_keys.begin(), ties_.foreign_keys.end(),
                    [&](const target::ForeignKeyColumns& fk) {
                        return fk.child == name || fk.parent == name;
                    })) {
        order_as_a_whole(name);
        placed = &place(name);
    }
    if (!placed->per_row) {
        std::string group = table_groups_enabled_ ? placed->group : "*";
        plan.whole =
            Schedule::exclusive(std::hash<std::string>{}("order-sensitive tables: " + group));
        return plan;
    }
    for (const target::UniqueColumns& index : ties_.unique_indexes) {
        if (index.table != name) {
            continue;
        }
        Unique u;
        u.nulls_distinct = index.nulls_distinct;
        for (const std::string& c : index.columns) {
            // An expression, a column the target computes (generated, exprs) or fills from
            // others (v1 extras) holds values the texts sent do not tell.
            auto idx = c.empty() ? std::nullopt : t.find(c);
            bool computed = !idx || t.columns[*idx].generated || !t.columns[*idx].expr.empty();
            int src = computed ? kComputed : mapping.source_of(*idx);
            if (src == -1) {
                src = mapping.writes(*idx) ? kComputed : kNotSent;
            }
            u.source.push_back(src);
        }
        // A layout that has none of its columns (the source lacks them, or a userscript's
        // delete carries the key only) keeps per value: its upserts leave them as they are,
        // its deletes free an unknown value. One that has some of them cannot tell its value.
        auto count = [&](int what) { return std::count(u.source.begin(), u.source.end(), what); };
        auto not_sent = static_cast<size_t>(count(kNotSent));
        u.per_value = index.comparable && !handled && count(kComputed) == 0 &&
                      (not_sent == 0 || not_sent == u.source.size());
        std::string index_name = name + " index " + index.index;
        u.tag = std::hash<std::string>{}("value of " + index_name);
        u.any = std::hash<std::string>{}("any value of " + index_name);
        plan.uniques.push_back(std::move(u));
    }
    auto tie = [&](const std::vector<std::string>& columns, const std::string& referenced_name) {
        Tie out;
        for (const std::string& c : columns) {
            // A column the target computes (a userscript's exprs) holds another value than
            // the one sent: as if not sent.
            auto idx = t.find(c);
            out.source.push_back(idx && t.columns[*idx].expr.empty() ? mapping.source_of(*idx)
                                                                     : -1);
        }
        out.tag = std::hash<std::string>{}("row of " + referenced_name);
        out.removal = std::hash<std::string>{}("removal from " + referenced_name);
        return out;
    };
    for (const target::ForeignKeyColumns& fk : ties_.foreign_keys) {
        std::string referenced_name = referenced(fk.parent, fk.parent_columns);
        if (fk.child == name) {
            plan.refers.push_back(tie(fk.child_columns, referenced_name));
        }
        if (fk.parent == name) {
            Tie parent = tie(fk.parent_columns, referenced_name);
            if (std::none_of(plan.referred.begin(), plan.referred.end(),
                             [&](const Tie& r) { return r.tag == parent.tag; })) {
                plan.referred.push_back(std::move(parent));
            }
        }
    }
    return plan;
}

void ConflictKeys::order_as_a_whole(const std::string& table) {
    forced_whole_.insert(table);
    const std::string group = placements_.at(table).group;
    for (auto& entry : placements_) {
        if (entry.second.group == group) {
            entry.second.per_row = false;
        }
    }
    // Groups in flight may hold per-row keys of the set's tables: as after a re-read, this
    // transaction runs alone and later ones are keyed anew.
    plans_.clear();
    reread_ = true;
}

const ConflictKeys::Placement& ConflictKeys::place(const std::string& table) {
    if (ties_loaded_ && placements_.contains(table)) {
        return placements_.at(table);
    }
    if (ties_loaded_ && unnamed_.contains(table)) {
        // Named by none of the ties when they were read for it: not read again for it (two
        // such tables in turn would re-read them, and run alone, every time).
        return placements_.try_emplace(table, Placement{table, false}).first->second;
    }
    // Read afresh whenever a table not placed yet shows up. Tables joined by foreign keys (in
    // either direction, across any schema) form one set, found by union-find; a set is
    // tracked per row unless one of its tables is tied as a whole (a unique constraint without
    // an index, an exclusion constraint) or one of its foreign keys compares values whose
    // texts may differ.
    ties_ = load_ties_(session_);
    reread_ = ties_loaded_;
    ties_loaded_ = true;
    plans_.clear();
    std::unordered_map<std::string, std::string> parent;
    auto root = [&](std::string x) {
        for (auto it = parent.find(x); it != parent.end() && it->second != x; it = parent.find(x)) {
            x = it->second;
        }
        return x;
    };
    auto join = [&](const std::string& a, const std::string& b) {
        parent.emplace(a, a);
        parent.emplace(b, b);
        std::string ra = root(a);
        std::string rb = root(b);
        if (ra != rb) {
            parent[std::max(ra, rb)] = std::min(ra, rb);
        }
    };
    for (const target::ForeignKeyColumns& fk : ties_.foreign_keys) {
        join(fk.child, fk.parent);
    }
    for (const target::UniqueColumns& u : ties_.unique_indexes) {
        join(u.table, u.table);
    }
    std::unordered_set<std::string> whole;
    for (const std::string& t : ties_.tied_as_a_whole) {
        join(t, t);
        whole.insert(root(t));
    }
    for (const std::string& t : forced_whole_) {
        if (parent.contains(t)) {
            whole.insert(root(t));
        }
    }
    for (const target::ForeignKeyColumns& fk : ties_.foreign_keys) {
        if (!fk.comparable) {
            whole.insert(root(fk.child));
        }
    }
    placements_.clear();
    for (const auto& entry : parent) {
        std::string r = root(entry.first);
        placements_[entry.first] = Placement{r, !whole.contains(r)};
    }
    // Order-sensitive, yet named by none of the ties (they changed since): as a whole, alone.
    if (placements_.try_emplace(table, Placement{table, false}).second) {
        unnamed_.insert(table);
    }
    return placements_.at(table);
}

}  // namespace rep::sequencer
