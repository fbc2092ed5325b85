#pragma once

// What the apply logic needs around it in a unit test: a fake target database with declared
// tables, the catalog reading them, the memo, PostgreSQL positions (the codec with stable
// ordinals), Progress and a probe; plus builders for source relations, row changes and the
// items a source reader would emit.

#include "core/change_item.h"
#include "core/progress.h"
#include "sequencer/apply_context.h"
#include "sequencer/group_applier.h"
#include "sequencer/retrying_applier.h"
#include "source/postgres/lsn.h"
#include "source/postgres/lsn_codec.h"
#include "staging/memo.h"
#include "target/dialect.h"
#include "target/table_catalog.h"

#include "fake_target.h"
#include "metrics/probe.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rep::testing {

inline const char* kMemoKey = "pglogical-wal-offset-public";

struct ApplyFixture {
    ApplyFixture() {
        options.retry.initial_backoff = std::chrono::milliseconds(1);
        options.retry.max_backoff = std::chrono::milliseconds(2);
        options.retry.max_retries = 3;
        FakeSession setup(db);
        memo.ensure(setup, /*create=*/true);
    }

    // Declares a target table and the source relation that maps onto it: the same columns,
    // text-typed, the first `keys` of them the primary key; the target also has the columns
    // `target_only`. `unique_constrained`: it has a unique index besides the key (and is
    // order-sensitive).
    std::shared_ptr<const Relation> table(const std::string& name,
                                          const std::vector<std::string>& columns, size_t keys,
                                          bool order_sensitive = false,
                                          const std::vector<std::string>& target_only = {},
                                          bool unique_constrained = false) {
        target::TargetTable t;
        t.name = TableName{schema, name};
        std::vector<std::string> target_columns = columns;
        target_columns.insert(target_columns.end(), target_only.begin(), target_only.end());
        for (size_t i = 0; i < target_columns.size(); ++i) {
            target::TargetColumn c;
            c.name = target_columns[i];
            c.cast_type = "text";
            c.pk_position = i < keys ? static_cast<int>(i) + 1 : 0;
            t.columns.push_back(c);
            if (i < keys) {
                t.pk.push_back(i);
            }
        }
        t.order_sensitive = order_sensitive || unique_constrained;
        t.unique_constrained = unique_constrained;
        db.add_table(t);
        tables[name] = t;
        auto r = std::make_shared<Relation>();
        r->id = static_cast<uint32_t>(16400 + tables.size());
        r->schema = "public";
        r->name = name;
        for (size_t i = 0; i < columns.size(); ++i) {
            SourceColumn c;
            c.name = columns[i];
            c.type_oid = 25;
            c.is_key = i < keys;
            r->columns.push_back(std::move(c));
        }
        return r;
    }

    // The table's rows as "v1|v2|..." in column order (NULL for a NULL), sorted by key.
    std::vector<std::string> dump(const std::string& name) const {
        const target::TargetTable& t = tables.at(name);
        std::vector<std::string> out;
        for (const auto& [key, row] : db.rows(t.name.sql(false))) {
            std::string line;
            for (size_t i = 0; i < t.columns.size(); ++i) {
                auto it = row.find(t.columns[i].name);
                line += (i > 0 ? "|" : "");
                line += it == row.end() || !it->second ? "NULL" : *it->second;
            }
            out.push_back(line);
        }
        return out;
    }

    sequencer::ApplyContext context(util::TargetSession* staging = nullptr) {
        sequencer::ApplyContext c{options,  codec,   catalog,  memo,
                                  kMemoKey, staging, progress, probe};
        c.fence = fence;
        c.table_hooks = table_hooks;
        return c;
    }
    // What fences the workers' transactions (the stream lease), if anything.
    const sequencer::TransactionFence* fence = nullptr;
    // Table-level handlers for the workers, if any.
    sequencer::TableHooksFactory table_hooks;

    target::Dialect dialect{target::TargetProduct::kPostgres};
    SchemaRef schema = SchemaRef::parse("public", "--targetSchema");
    std::map<std::string, target::TargetTable> tables;
    FakeDatabase db;
    target::TableCatalog catalog{dialect, schema,
                                 [this](util::TargetSession& session,
                                        const TableName& n) -> std::optional<target::TargetTable> {
                                     // As the real loader does, a round trip on the session: it
                                     // must be free for it.
                                     session.query("SELECT 'catalog'");
                                     auto it = tables.find(n.table);
                                     return it == tables.end()
                                                ? std::nullopt
                                                : std::optional<target::TargetTable>(it->second);
                                 }};
    staging::Memo memo{dialect, SchemaRef::parse("_replicator", "--stagingSchema")};
    pg::LsnCodec codec;
    Progress progress;
    metrics::Probe probe{"public", "pglogical"};
    sequencer::ApplyOptions options;
};

// Values in relation order: "NULL" is NULL, "~" is absent (an unchanged TOASTed column, or a
// column a key tuple does not carry).
inline std::vector<Datum> values(const std::vector<std::string>& texts) {
    std::vector<Datum> out;
    for (const std::string& t : texts) {
        out.push_back(t == "NULL" ? Datum::null() : t == "~" ? Datum{} : Datum::value(t));
    }
    return out;
}

inline Mutation upsert(const std::shared_ptr<const Relation>& rel,
                       const std::vector<std::string>& row,
                       const std::vector<std::string>& old_key = {}) {
    Mutation m;
    m.kind = MutationKind::kUpsert;
    m.relation = rel;
    m.values = values(row);
    if (!old_key.empty()) {
        m.old_values = values(old_key);
    }
    return m;
}

inline Mutation remove(const std::shared_ptr<const Relation>& rel,
                       const std::vector<std::string>& key_tuple) {
    Mutation m;
    m.kind = MutationKind::kDelete;
    m.relation = rel;
    m.values = values(key_tuple);
    return m;
}

// The items of one source transaction as a PostgreSQL reader emits them: its identity is the
// LSN `id`, and it ends at `id` + 8.
inline std::vector<ChangeItem> transaction(uint64_t id, std::vector<Mutation> mutations,
                                           size_t chunk = 1000) {
    std::vector<ChangeItem> items;
    ChangeItem begin;
    begin.kind = ChangeItem::Kind::kBegin;
    begin.xid = static_cast<uint32_t>(id);
    begin.position = Position{Ordinal(id), {}};
    items.push_back(std::move(begin));
    for (size_t i = 0; i < mutations.size(); i += chunk) {
        ChangeItem changes;
        changes.kind = ChangeItem::Kind::kChanges;
        for (size_t j = i; j < mutations.size() && j < i + chunk; ++j) {
            changes.mutations.push_back(mutations[j]);
        }
        changes.bytes = changes.approx_bytes();  // as the TransactionEmitter counts them
        items.push_back(std::move(changes));
    }
    ChangeItem commit;
    commit.kind = ChangeItem::Kind::kCommit;
    commit.position = pg::Lsn(id + 8).position();
    items.push_back(std::move(commit));
    return items;
}

}  // namespace rep::testing

namespace rep::testing {

// Checkpoints as a single apply connection does (the plain memo row in the group's own
// transaction, Progress after the commit) and remembers every span it was told about.
class RecordingHooks final : public sequencer::CommitHooks {
public:
    explicit RecordingHooks(ApplyFixture& f) : f_(f) {}

    // The turns the next await_turn() calls get, in order; then always ready.
    sequencer::Schedule::Turn await_turn(std::chrono::milliseconds, size_t) override {
        ++turn_waits;
        if (turns.empty()) {
            return sequencer::Schedule::Turn::kReady;
        }
        sequencer::Schedule::Turn t = turns.front();
        turns.pop_front();
        return t;
    }
    std::deque<sequencer::Schedule::Turn> turns;
    size_t turn_waits = 0;
    bool chains() const override { return chain; }
    bool chain = true;  // commits may go out unanswered (RetryingApplier::end_group(true))

    std::vector<std::pair<std::string, std::string>> memo_rows(
        const sequencer::GroupSpan& span) override {
        return {{kMemoKey, span.end.text}};
    }
    void committed(const sequencer::GroupSpan& span) override {
        spans.push_back(span);
        f_.progress.advance(span.end);
    }
    bool landed(util::TargetSession& session, const sequencer::GroupSpan& span) override {
        if (failing_looks > 0) {
            --failing_looks;  // the checkpoint query fails, as on a connection killed again
            throw Error(ErrorKind::kRetryable, "the checkpoint query failed");
        }
        return f_.memo.read(session, kMemoKey) == span.end.text;
    }
    size_t failing_looks = 0;

    std::vector<sequencer::GroupSpan> spans;

private:
    ApplyFixture& f_;
};

}  // namespace rep::testing

namespace rep::testing {

// One apply worker's stack on its own fake session, checkpointing through RecordingHooks.
// Build it after setting the fixture's options.
struct TestApplier {
    explicit TestApplier(ApplyFixture& f)
        : context(f.context()),
          hooks(f),
          session(f.db),
          applier(context, session, hooks),
          retrying(applier, f.options.retry, f.options.collapse,
                   sequencer::kKeptGroupGrowth * std::max<size_t>(1, f.options.flush_size)) {}

    sequencer::ApplyContext context;
    RecordingHooks hooks;
    FakeSession session;
    sequencer::GroupApplier applier;
    sequencer::RetryingApplier retrying;
};

}  // namespace rep::testing
