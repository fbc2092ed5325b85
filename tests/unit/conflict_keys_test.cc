// Conflict keys of order-sensitive tables (sequencer/conflict_keys.h): foreign keys tracked
// per referenced row, with the Schedule's shared and exclusive keys.

#include "sequencer/conflict_keys.h"

#include "sequencer/schedule.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

namespace rep::sequencer {
namespace {

using testing::values;

// accounts(id) <- entries(id, account, amount) by a foreign key; codes(id, code) has a
// unique index on code; tagged(id, v) has one on a column the source does not have.
struct Tables {
    testing::ApplyFixture f;
    std::shared_ptr<const Relation> accounts = f.table("accounts", {"id", "name"}, 1, true);
    std::shared_ptr<const Relation> entries =
        f.table("entries", {"id", "account", "amount"}, 1, true);
    std::shared_ptr<const Relation> codes = f.table("codes", {"id", "code"}, 1, true);
    std::shared_ptr<const Relation> plain = f.table("plain", {"id", "v"}, 1);
    std::shared_ptr<const Relation> tagged = f.table("tagged", {"id", "v"}, 1, true, {"serial"});
    target::RowTies ties{{{"public.entries", "public.accounts", {"account"}, {"id"}, true}},
                         {{"public.codes", "codes_code_key", {"code"}, true, true},
                          {"public.tagged", "tagged_serial_key", {"serial"}, true, true}},
                         {}};
    size_t reads = 0;
    // Tables whose rows go through table-level handlers.
    std::function<bool(const target::TargetTable&)> handled;
    testing::FakeSession session{f.db};
    ConflictKeys keys{f.catalog, session, /*table_groups=*/false,
                      [this](util::TargetSession&) {
                          ++reads;
                          return ties;
                      },
                      [this](const target::TargetTable& t) { return handled && handled(t); }};

    // The keys of one transaction, as the dispatcher hands them to the Schedule; nullopt if
    // it must run alone.
    std::optional<Schedule::Keys> of(std::vector<Mutation> mutations) {
        ChangeItem item;
        item.mutations = std::move(mutations);
        Schedule::Keys out;
        if (!keys.add(item, out)) {
            return std::nullopt;
        }
        Schedule::normalize(out);
        return out;
    }
};

Mutation upsert(std::shared_ptr<const Relation> rel, std::vector<std::string> v,
                std::vector<std::string> old = {}) {
    return Mutation{MutationKind::kUpsert, std::move(rel), values(v),
                    old.empty() ? std::vector<Datum>{} : values(old)};
}
// An upsert of a row the source inserted.
Mutation insert(std::shared_ptr<const Relation> rel, std::vector<std::string> v) {
    Mutation m = upsert(std::move(rel), std::move(v));
    m.inserted = true;
    return m;
}
Mutation remove(std::shared_ptr<const Relation> rel, std::vector<std::string> v) {
    return Mutation{MutationKind::kDelete, std::move(rel), values(v), {}};
}

// As the Schedule judges them: a key both hold, at least one of them exclusively.
bool conflict(const std::optional<Schedule::Keys>& a, const std::optional<Schedule::Keys>& b) {
    EXPECT_TRUE(a && b);
    for (uint64_t ka : *a) {
        for (uint64_t kb : *b) {
            if (Schedule::base(ka) == Schedule::base(kb) &&
                !(Schedule::is_shared(ka) && Schedule::is_shared(kb))) {
                return true;
            }
        }
    }
    return false;
}

TEST(ConflictKeys, ChildRowsOfOneParentApplyAtOnceAndAfterIt) {
    Tables t;
    auto child1 = t.of({upsert(t.entries, {"1", "7", "10"}, {"1", "7", "5"})});
    auto child2 = t.of({upsert(t.entries, {"2", "7", "20"}, {"2", "7", "5"})});
    auto parent7 = t.of({upsert(t.accounts, {"7", "ann"})});
    auto parent8 = t.of({upsert(t.accounts, {"8", "bob"})});
    EXPECT_FALSE(conflict(child1, child2)) << "two children of one parent";
    EXPECT_TRUE(conflict(parent7, child1)) << "a child and the parent it refers to";
    EXPECT_FALSE(conflict(parent8, child1)) << "a child and another parent";
    EXPECT_FALSE(conflict(parent7, parent8));
    EXPECT_EQ(t.reads, 1u) << "the ties are read once";
}

TEST(ConflictKeys, AParentsRemovalWaitsForChildrenWhoseOldReferenceIsUnknown) {
    Tables t;
    auto delete9 = t.of({remove(t.accounts, {"9", "~"})});
    // PostgreSQL's UPDATE without REPLICA IDENTITY FULL: the old row is not sent, so the
    // child may have referred to account 9 before.
    auto update = t.of({upsert(t.entries, {"5", "7", "1"})});
    auto delete_child = t.of({remove(t.entries, {"15", "~", "~"})});
    EXPECT_TRUE(conflict(delete9, update));
    EXPECT_TRUE(conflict(delete9, delete_child));
    EXPECT_FALSE(conflict(update, delete_child)) << "children of a foreign key do not conflict";
    // With the old row known (REPLICA IDENTITY FULL), only the rows referred to count.
    auto known = t.of({upsert(t.entries, {"6", "7", "1"}, {"6", "8", "1"})});
    EXPECT_FALSE(conflict(delete9, known));
    EXPECT_TRUE(conflict(t.of({remove(t.accounts, {"8", "~"})}), known));
    // A NULL reference refers to nothing.
    auto none = t.of({upsert(t.entries, {"7", "NULL", "1"}, {"7", "NULL", "1"})});
    EXPECT_FALSE(conflict(delete9, none));
    // A key change of a parent removes the old row as a delete does.
    auto moved = t.of({upsert(t.accounts, {"10", "x"}, {"9", "~"})});
    EXPECT_TRUE(conflict(moved, update));
    EXPECT_FALSE(conflict(t.of({upsert(t.accounts, {"9", "y"})}), update))
        << "an upsert of a parent removes nothing";
}

TEST(ConflictKeys, UniqueIndexesAreTrackedPerValue) {
    Tables t;
    auto a1 = t.of({insert(t.codes, {"1", "a"})});
    auto b2 = t.of({insert(t.codes, {"2", "b"})});
    EXPECT_FALSE(conflict(a1, b2)) << "inserts of other values";
    EXPECT_TRUE(conflict(a1, t.of({insert(t.codes, {"3", "a"})}))) << "one value";
    // An UPDATE without its old row (PostgreSQL's default replica identity) may have freed
    // any value, so it orders every change of the index; with the old row, only its values.
    auto unknown = t.of({upsert(t.codes, {"4", "c"})});
    EXPECT_TRUE(conflict(unknown, b2));
    auto known = t.of({upsert(t.codes, {"5", "c"}, {"5", "x"})});
    EXPECT_TRUE(conflict(known, t.of({insert(t.codes, {"6", "x"})}))) << "takes a freed value";
    EXPECT_TRUE(conflict(known, t.of({insert(t.codes, {"6", "c"})})));
    EXPECT_FALSE(conflict(known, b2));
    EXPECT_FALSE(conflict(t.of({upsert(t.codes, {"5", "b"}, {"5", "b"})}), a1))
        << "an update that keeps its value";
    // A DELETE frees its old row's value: unknown from a key-only old row.
    EXPECT_TRUE(conflict(t.of({remove(t.codes, {"7", "~"})}), b2));
    auto deleted = t.of({remove(t.codes, {"7", "d"})});
    EXPECT_TRUE(conflict(deleted, t.of({insert(t.codes, {"8", "d"})})));
    EXPECT_FALSE(conflict(deleted, b2));
    // A column not sent is unchanged: neither given nor freed.
    EXPECT_FALSE(conflict(t.of({upsert(t.codes, {"9", "~"})}), unknown));
    // NULLs are distinct, unless the index says NULLS NOT DISTINCT.
    EXPECT_FALSE(
        conflict(t.of({insert(t.codes, {"10", "NULL"})}), t.of({insert(t.codes, {"11", "NULL"})})));
    Tables n;
    n.ties.unique_indexes[0].nulls_distinct = false;
    EXPECT_TRUE(
        conflict(n.of({insert(n.codes, {"10", "NULL"})}), n.of({insert(n.codes, {"11", "NULL"})})));
    // Other tables, and an index on a column only the target fills in, are not concerned.
    EXPECT_FALSE(conflict(unknown, t.of({upsert(t.accounts, {"7", "ann"})})));
    EXPECT_FALSE(
        conflict(t.of({upsert(t.tagged, {"1", "v"})}), t.of({upsert(t.tagged, {"2", "w"})})));
}

TEST(ConflictKeys, UniqueIndexesWhoseTextsMayDifferOrderTheirTablesChanges) {
    Tables t;
    t.ties.unique_indexes[0].comparable = false;  // numeric, citext, lower(code), a collation
    auto a1 = t.of({insert(t.codes, {"1", "a"})});
    EXPECT_TRUE(conflict(a1, t.of({insert(t.codes, {"2", "b"})})));
    EXPECT_FALSE(conflict(a1, t.of({upsert(t.accounts, {"7", "ann"})})));
    // A unique index no longer orders the foreign key's set as a whole.
    Tables v;
    v.ties.unique_indexes.push_back({"public.accounts", "accounts_name_key", {"name"}, true, true});
    EXPECT_FALSE(conflict(v.of({insert(v.accounts, {"7", "ann"})}),
                          v.of({upsert(v.entries, {"1", "8", "1"}, {"1", "8", "1"})})));
}

// What the keys cannot tell from the texts sent orders every change of the index.
TEST(ConflictKeys, ValuesNotToldByTheChangeOrderEveryChangeOfTheIndex) {
    // A delete whose layout carries the key only (a userscript's): its value is unknown.
    Tables t;
    auto keys_only = std::make_shared<Relation>(*t.codes);
    keys_only->columns.resize(1);
    auto a2 = t.of({insert(t.codes, {"2", "a"})});
    EXPECT_TRUE(conflict(t.of({remove(keys_only, {"1"})}), a2));
    // An index of two columns of which the change sends one.
    Tables m;
    m.ties.unique_indexes[0].columns = {"id", "code"};
    EXPECT_TRUE(conflict(m.of({upsert(m.codes, {"4", "~"})}), m.of({insert(m.codes, {"2", "a"})})));
    // A column the target computes from others (GENERATED ALWAYS AS).
    Tables g;
    g.f.tables["tagged"].columns[2].generated = true;
    EXPECT_TRUE(
        conflict(g.of({upsert(g.tagged, {"1", "v"})}), g.of({upsert(g.tagged, {"2", "w"})})));
    // Table-level handlers may change any value: the index as a whole, and a foreign key's
    // set of tables as a whole (the first transaction that sees it runs alone).
    Tables h;
    h.handled = [](const target::TargetTable& table) {
        return table.name.table == "codes" || table.name.table == "entries";
    };
    EXPECT_TRUE(conflict(h.of({insert(h.codes, {"1", "a"})}), h.of({insert(h.codes, {"2", "b"})})));
    EXPECT_FALSE(h.of({upsert(h.entries, {"1", "7", "1"})}));
    EXPECT_TRUE(conflict(h.of({upsert(h.entries, {"1", "7", "1"}, {"1", "7", "1"})}),
                         h.of({upsert(h.accounts, {"8", "bob"})})));
    EXPECT_FALSE(
        conflict(h.of({upsert(h.accounts, {"8", "bob"})}), h.of({upsert(h.plain, {"1", "v"})})));
}

TEST(ConflictKeys, IncomparableReferencesAndConstraintsWithoutColumnsOrderTheirSetAsAWhole) {
    Tables u;
    u.ties.foreign_keys[0].comparable = false;  // e.g. integer referring to bigint
    u.ties.tied_as_a_whole = {"public.plain2"};
    auto p = u.of({upsert(u.accounts, {"7", "ann"})});
    auto c = u.of({upsert(u.entries, {"1", "8", "1"}, {"1", "8", "1"})});
    EXPECT_TRUE(conflict(p, c));
    EXPECT_FALSE(conflict(p, u.of({insert(u.codes, {"1", "a"})})));
    // An exclusion constraint, a unique constraint without an index: as a whole, and with the
    // other tables ordered as a whole.
    auto excluded = u.f.table("plain2", {"id", "v"}, 1, true);
    auto e1 = u.of({insert(excluded, {"1", "a"})});
    EXPECT_TRUE(conflict(e1, u.of({insert(excluded, {"2", "b"})})));
    EXPECT_TRUE(conflict(e1, p)) << "all tables ordered as a whole share one key";
}

TEST(ConflictKeys, TiesReadAgainMakeTheTransactionRunAlone) {
    Tables t;
    t.ties.foreign_keys.clear();
    ASSERT_TRUE(t.of({upsert(t.codes, {"1", "a"})}));
    // A table the ties did not name (a foreign key added since): they are read again, and
    // groups in flight hold keys by the old ones.
    t.ties.foreign_keys = {{"public.entries", "public.accounts", {"account"}, {"id"}, true}};
    EXPECT_FALSE(t.of({upsert(t.accounts, {"7", "ann"})}));
    EXPECT_EQ(t.reads, 2u);
    EXPECT_TRUE(t.of({upsert(t.entries, {"1", "7", "1"})}));
    EXPECT_EQ(t.reads, 2u);
    // An order-sensitive table the ties do not name even when read again: ordered as a whole,
    // and they are not read again for it.
    auto orphan = t.f.table("orphan", {"id"}, 1, true);
    EXPECT_FALSE(t.of({upsert(orphan, {"1"})}));
    EXPECT_EQ(t.reads, 3u);
    EXPECT_TRUE(t.of({upsert(orphan, {"2"})}));
    EXPECT_TRUE(conflict(t.of({upsert(orphan, {"3"})}), t.of({upsert(orphan, {"5"})})));
    EXPECT_FALSE(conflict(t.of({upsert(orphan, {"6"})}), t.of({insert(t.codes, {"1", "a"})})));
    auto orphan2 = t.f.table("orphan2", {"id"}, 1, true);
    EXPECT_FALSE(t.of({upsert(orphan2, {"1"})}));
    EXPECT_EQ(t.reads, 4u);
    // Tables in turn that the ties do not name do not read them again each time.
    EXPECT_TRUE(t.of({upsert(orphan, {"4"})}));
    EXPECT_TRUE(t.of({upsert(orphan2, {"2"})}));
    EXPECT_TRUE(conflict(t.of({upsert(orphan, {"7"})}), t.of({upsert(orphan2, {"3"})})))
        << "tables ordered as a whole share one key";
    EXPECT_EQ(t.reads, 4u);
}

}  // namespace
}  // namespace rep::sequencer
