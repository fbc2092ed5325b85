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

}  // namespace

ConflictKeys::ConflictKeys(target::TableCatalog& catalog, util::TargetSession& session,
                           bool table_groups, TiesLoader load_ties)
    : catalog_(catalog),
      session_(session),
      table_groups_enabled_(table_groups),
      load_ties_(std::move(load_ties)) {}

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
            complete = complete && (plan.plain || add_ties(plan, m, keys));
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
    const Placement& placed = place(name);
    if (!placed.per_row) {
        std::string group = table_groups_enabled_ ? placed.group : "*";
        plan.whole =
            Schedule::exclusive(std::hash<std::string>{}("order-sensitive tables: " + group));
        return plan;
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
    // tracked per row unless one of its tables has a unique index besides its primary key or
    // one of its foreign keys compares values whose texts may differ.
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
    std::unordered_set<std::string> whole;
    for (const std::string& t : ties_.unique_indexed) {
        join(t, t);
        whole.insert(root(t));
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
