#include "sequencer/group_applier.h"

#include "base/clock.h"
#include "target/catalog_queries.h"
#include "target/errors.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace rep::sequencer {
namespace {}  // namespace

using target::Segment;

GroupApplier::GroupApplier(const ApplyContext& context, util::TargetSession& session,
                           CommitHooks& hooks)
    : context_(context),
      hooks_(hooks),
      table_hooks_(context.table_hooks ? context.table_hooks() : nullptr),
      builder_(context.catalog, session, context.options.collapse, table_hooks_.get()),
      writer_(
          context.catalog.dialect(), context.options.max_message_bytes, session,
          [this](const Error& e, const Segment& s) { fail_segment(e, s); }, context.fence) {
    // The catalog is read on this connection: never while chained commits await answers.
    builder_.before_lookup([this] { settle(); });
    writer_.on_time_dropped([this](const target::TargetTable& t, const target::TargetColumn& c) {
        if (context_.probe.time_of_day_dropped(t.name.table, c.name)) {
            spdlog::warn(
                "column {} of target table {} is a date, and the source sends times of day: "
                "the target keeps the date only (counted in apply_time_of_day_dropped_total). "
                "Make the column a timestamp to keep them (MOLT Fetch makes an Oracle DATE "
                "column a date)",
                c.name, t.name.display());
        }
    });
}

void GroupApplier::apply(const ChangeItem& item) {
    switch (item.kind) {
        case ChangeItem::Kind::kBegin:
            xid_ = item.xid;
            txn_id_ = item.position;
            txn_rows_ = 0;
            if (tally_.oldest_us == 0) {
                tally_.oldest_us = item.commit_time_us;
            }
            tally_.newest_us = item.commit_time_us;
            return;
        case ChangeItem::Kind::kChanges:
            writer_.open();
            for (const Mutation& m : item.mutations) {
                builder_.add(m);
                ++txn_rows_;
                if (mid_group_flush_due()) {
                    flush();
                }
            }
            tally_.rows += item.mutations.size();
            return;
        case ChangeItem::Kind::kTruncate:
            apply_truncate(item);
            return;
        case ChangeItem::Kind::kCommit:
            if (tally_.txns == 0) {
                tally_.span.txns.lo = txn_id_.ordinal;
            }
            tally_.span.txns.hi = txn_id_.ordinal;
            tally_.span.end = item.position;
            ++tally_.txns;
            return;
        case ChangeItem::Kind::kKeepalive:
            return;  // the dispatcher keeps positions with nothing to apply
    }
}

bool GroupApplier::mid_group_flush_due() const {
    // Writing before the group commits bounds memory, but costs a round trip of its own, on
    // the critical path when the group queued behind another. A group of small transactions
    // holds at most kGroupGrowth x --flushSize rows and one transaction (dispatcher.cc): let
    // it finish and send data, checkpoint and COMMIT together (one round trip). A
    // transaction of --flushSize rows or more is written as it comes.
    size_t rows = builder_.rows();
    size_t flush_size = context_.options.flush_size;
    return rows >= flush_size &&
           (txn_rows_ >= flush_size || rows >= (kGroupGrowth + 1) * flush_size);
}

// What an onWrite handler writes with goes into the group's open target transaction.
class GroupApplier::HandlerTransaction final : public TableHooks::Transaction {
public:
    explicit HandlerTransaction(GroupApplier& applier) : applier_(applier) {}
    void write(const std::shared_ptr<const target::TableMapping>& mapping,
               std::vector<RowWrite> rows) override {
        // In strict source order: the handler's rows, as it ordered them.
        BatchBuilder builder(applier_.context_.catalog, applier_.writer_.session(),
                             /*collapse=*/false);
        for (RowWrite& r : rows) {
            builder.add_row(mapping, r.kind, std::move(r.row), std::move(r.old_key));
        }
        std::vector<Segment> segments = builder.take_segments();
        applier_.record_written(segments, applier_.writer_.write_for_handler(segments));
    }
    util::TargetSession& session() override {
        applier_.writer_.begin();
        return applier_.writer_.session();
    }

private:
    GroupApplier& applier_;
};

bool GroupApplier::has_on_write(const target::TargetTable& table) {
    std::string name = table.name.display();
    auto it = on_write_.find(name);
    if (it == on_write_.end()) {
        it = on_write_.emplace(name, table_hooks_->has_on_write(table)).first;
    }
    return it->second;
}

std::vector<Segment> GroupApplier::through_on_write(std::vector<Segment> segments) {
    if (table_hooks_ == nullptr) {
        return segments;
    }
    std::vector<Segment> pending;  // segments of tables without onWrite, in order
    for (size_t i = 0; i < segments.size();) {
        const target::TargetTable& table = segments[i].mapping->target();
        if (!has_on_write(table)) {
            pending.push_back(std::move(segments[i++]));
            continue;
        }
        // The handler takes a run of its table's segments; what came before is written
        // first, so it runs on the target as the source's order has it.
        std::string name = table.name.display();
        std::vector<Segment> run;
        while (i < segments.size() && segments[i].mapping->target().name.display() == name) {
            run.push_back(std::move(segments[i++]));
        }
        if (!pending.empty()) {
            record_written(pending, writer_.write(pending));
            pending.clear();
        }
        writer_.begin();
        HandlerTransaction tx(*this);
        try {
            table_hooks_->on_write(run, tx);
        } catch (const Error& e) {
            if (!e.retryable()) {
                context_.probe.apply_error(table.name.table);
            }
            throw;
        }
        if (!writer_.session().in_transaction()) {
            context_.probe.apply_error(table.name.table);
            throw Error(
                ErrorKind::kFatal,
                fmt::format("the userscript's onWrite for table {} returned with the target "
                            "transaction aborted or ended ({}); after a failed statement it "
                            "catches, a handler must ROLLBACK TO SAVEPOINT, and it must never "
                            "COMMIT or ROLLBACK the transaction itself. Checkpoint stays at {}",
                            name, current_transaction(),
                            context_.codec.describe(context_.progress.get())));
        }
    }
    return pending;
}

void GroupApplier::flush() {
    settle();  // nothing goes out before the answers of what went before
    std::vector<Segment> segments = through_on_write(builder_.take_segments());
    if (segments.empty()) {
        return;
    }
    record_written(segments, writer_.write(segments));
}

bool GroupApplier::turn(std::chrono::milliseconds timeout) {
    if (!unanswered_.empty()) {
        // The Schedule would take the unanswered group for this one and say it is its turn.
        throw Error(ErrorKind::kFatal,
                    "internal error: a turn was awaited with commits still unanswered");
    }
    switch (hooks_.await_turn(timeout, 0)) {
        case Schedule::Turn::kReady:
            return true;
        case Schedule::Turn::kTimeout:
            return false;
        case Schedule::Turn::kAborted:
            break;
    }
    turn_aborted_ = true;
    throw Error(ErrorKind::kRetryable,
                "an earlier group failed on another connection, so this one is not committed");
}

void GroupApplier::wait_turn() {
    while (!turn(std::chrono::seconds(1))) {
        // nothing held: earlier groups may take as long as they need
    }
}

void GroupApplier::await_turn_to_commit() {
    if (turn(std::chrono::milliseconds(0))) {
        return;  // rows, checkpoint and COMMIT go out together
    }
    // Earlier groups are still committing on other connections: execute this group's rows
    // meanwhile, so that only its COMMIT waits.
    flush();
    if (turn(kTurnPatience)) {
        return;
    }
    // The conflict keys keep groups that write the same rows on one connection, so an earlier
    // group should never wait for this one's locks, but a target-side trigger or constraint
    // they do not know could make it: then both would wait for ever. Give way.
    gave_way_ = true;
    context_.probe.gave_way();
    throw Error(ErrorKind::kRetryable,
                fmt::format("{} waited {} ms for earlier transactions to commit on other "
                            "connections; rolled back to let them through, and applied again "
                            "once they have",
                            current_transaction(), kTurnPatience.count()));
}

void GroupApplier::commit(bool may_defer) {
    if (!writer_.is_open()) {
        // The group wrote nothing (filtered rows, an ignored TRUNCATE): it is done all the same,
        // in its turn, or a checkpoint written for it could pass earlier groups.
        settle();
        wait_turn();
        if (tally_.txns > 0) {
            hooks_.committed(tally_.span);
        }
        builder_.clear();
        committed(tally_);
        return;
    }
    // Not with onWrite handlers, which read results inside the transaction.
    bool defer = may_defer && table_hooks_ == nullptr && hooks_.chains();
    if (defer && unanswered_.size() == 1 &&
        hooks_.await_turn(std::chrono::milliseconds(0), 1) == Schedule::Turn::kReady) {
        // Every group before this one has committed, or is the one whose COMMIT this
        // connection sent last: go out behind it, guarded by its checkpoint row.
        CheckpointWrite guard;
        guard.sql = context_.memo.guard_sql();
        guard.params = {context_.memo_key, unanswered_.back().span.end.text};
        send_deferred(&guard);
        spdlog::debug("sent {} source transactions behind the unanswered COMMIT of the {} before",
                      unanswered_.back().txns, unanswered_.front().txns);
        settle_oldest();
        return;
    }
    settle();
    await_turn_to_commit();
    // Leave the answer unread only if the next group can go out behind it: no other
    // connection's group lies between them. Otherwise groups waiting for this one's commit
    // on other connections would wait for the next group to be folded too.
    if (defer && hooks_.await_turn(std::chrono::milliseconds(0), 1) == Schedule::Turn::kReady) {
        send_deferred(nullptr);
        return;
    }
    CheckpointWrite checkpoint = checkpoint_write();
    std::vector<Segment> segments = through_on_write(builder_.take_segments());
    record_written(segments, writer_.commit(segments, checkpoint));
    hooks_.committed(tally_.span);
    committed(tally_);
}

CheckpointWrite GroupApplier::checkpoint_write() {
    CheckpointWrite checkpoint;
    std::vector<std::pair<std::string, std::string>> rows = hooks_.memo_rows(tally_.span);
    if (!rows.empty()) {
        checkpoint.sql = context_.memo.upsert_sql(rows.size());
        for (auto& [key, value] : rows) {
            checkpoint.params.push_back(std::move(key));
            checkpoint.params.push_back(std::move(value));
        }
    }
    return checkpoint;
}

void GroupApplier::send_deferred(const CheckpointWrite* guard) {
    CheckpointWrite checkpoint = checkpoint_write();
    std::vector<Segment> segments = builder_.take_segments();
    tally_.written = written_of(segments);
    try {
        writer_.send_commit(segments, checkpoint, guard);
    } catch (const Error&) {
        if (!unanswered_.empty() && !writer_.session().connected()) {
            // The answers of the groups sent before are lost with the connection: which of
            // them landed, this one included, is for recover_chain() to tell. (With the
            // connection up, nothing went out: this group failed alone.)
            unanswered_.push_back(std::move(tally_));
            tally_ = Tally{};
            settle_failed_ = true;
        }
        throw;
    }
    unanswered_.push_back(std::move(tally_));
    tally_ = Tally{};
}

void GroupApplier::settle_oldest() {
    if (settle_failed_ || writer_.unanswered() == 0) {
        // After a failure only recover_chain() may look at what was sent.
        throw Error(ErrorKind::kFatal,
                    "internal error: answers read after a failure, before recover_chain()");
    }
    double seconds = 0;
    try {
        seconds = writer_.finish_commit();
    } catch (const Error&) {
        settle_failed_ = true;
        throw;
    }
    Tally done = std::move(unanswered_.front());
    unanswered_.pop_front();
    report_written(done, done.written, seconds);
    hooks_.committed(done.span);
    committed(done);
}

void GroupApplier::settle() {
    while (!unanswered_.empty()) {
        settle_oldest();
    }
}

size_t GroupApplier::recover_chain() {
    bool doubt = writer_.in_doubt();
    writer_.drain();
    discard_open_group();
    size_t landed = 0;
    if (doubt) {
        // The checkpoint row names the last group that committed; a group chained behind
        // one that did not could not commit (its guard failed).
        writer_.prepare_to_settle();
        for (size_t i = unanswered_.size(); i > 0 && landed == 0; --i) {
            if (hooks_.landed(writer_.session(), unanswered_[i - 1].span)) {
                landed = i;
            }
        }
        writer_.clear_doubt();
        doubtful_.reset();
        spdlog::warn(
            "the outcome of a COMMIT was in doubt ({}); the checkpoint row shows that {} of the "
            "{} groups sent before their answers were read landed",
            writer_.doubt(), landed, unanswered_.size());
    }
    for (size_t i = 0; i < landed; ++i) {
        report_written(unanswered_[i], unanswered_[i].written, 0);  // its time is unknown
        hooks_.committed(unanswered_[i].span);
        committed(unanswered_[i]);
    }
    unanswered_.clear();
    settle_failed_ = false;
    return landed;
}

bool GroupApplier::commit_landed() {
    if (!writer_.in_doubt()) {
        return false;
    }
    if (!doubtful_) {
        doubtful_ = tally_;
    }
    try {
        writer_.prepare_to_settle();
        bool landed = hooks_.landed(writer_.session(), doubtful_->span);
        writer_.clear_doubt();
        Tally group = std::move(*doubtful_);
        doubtful_.reset();
        if (!landed) {
            return false;
        }
        spdlog::warn(
            "the outcome of a COMMIT was in doubt ({}), but the checkpoint written with it "
            "shows the commit landed; {} source transactions are not applied again",
            writer_.doubt(), group.txns);
        writer_.forget();  // the next group begins a transaction of its own
        builder_.clear();
        hooks_.committed(group.span);
        committed(group);
        tally_ = Tally{};
        return true;
    } catch (const Error& e) {
        spdlog::warn("cannot tell yet whether the last COMMIT landed: {}", e.what());
        return false;
    }
}

void GroupApplier::committed(Tally& tally) {
    for (const auto& [table, counts] : tally.counts) {
        context_.probe.committed_rows(table, counts.first, counts.second);
    }
    context_.probe.committed(tally.oldest_us, tally.newest_us, tally.txns);
    if (tally.txns > 0) {
        spdlog::debug("committed {} source transactions ({} rows); progressed to {}", tally.txns,
                      tally.rows, context_.codec.describe(tally.span.end));
    }
    if (&tally == &tally_) {
        tally_ = Tally{};
    }
}

void GroupApplier::rollback() {
    if (!unanswered_.empty()) {
        // Never reported committed: the checkpoint stays before them, and a restart applies
        // them again if they did not land (recover_chain() is the way to tell).
        writer_.drain();
        unanswered_.clear();
        settle_failed_ = false;
    }
    discard_open_group();
}

void GroupApplier::discard_open_group() {
    gave_way_ = false;
    writer_.rollback();
    builder_.clear();
    tally_ = Tally{};
}

std::vector<GroupApplier::Tally::Written> GroupApplier::written_of(
    const std::vector<Segment>& segments) {
    std::vector<Tally::Written> written;
    written.reserve(segments.size());
    for (const Segment& s : segments) {
        written.push_back({s.mapping, s.rows.size(), s.kind == target::SegmentKind::kDelete});
    }
    return written;
}

void GroupApplier::record_written(const std::vector<Segment>& segments, double total_seconds) {
    report_written(tally_, written_of(segments), total_seconds);
}

void GroupApplier::report_written(Tally& tally, const std::vector<Tally::Written>& written,
                                  double total_seconds) {
    size_t total_rows = 0;
    for (const Tally::Written& w : written) {
        total_rows += w.rows;
    }
    double age =
        tally.oldest_us > 0 ? static_cast<double>(unix_now_us() - tally.oldest_us) / 1e6 : -1;
    for (const Tally::Written& w : written) {
        // The statements ran together: each is charged its share of the time by rows.
        double seconds = total_rows == 0 ? 0
                                         : total_seconds * static_cast<double>(w.rows) /
                                               static_cast<double>(total_rows);
        const TableName& name = w.mapping->target().name;
        context_.probe.wrote_batch(name.table, w.rows, seconds, age);
        auto& c = tally.counts[name.table];
        (w.deletes ? c.second : c.first) += w.rows;
        spdlog::debug("{} {} rows {} {} in {:.3f}ms", w.deletes ? "deleted" : "upserted", w.rows,
                      w.deletes ? "from" : "into", name.display(), seconds * 1000);
    }
}

std::string GroupApplier::current_transaction() const {
    return context_.codec.describe_transaction(xid_, txn_id_);
}

void GroupApplier::fail_segment(const Error& e, const Segment& s) {
    context_.probe.apply_error(s.mapping->target().name.table);
    rollback();
    // Find the row the batch choked on by writing its rows one at a time, so the message can
    // name the primary key.
    std::string culprit = writer_.find_failing_row(s);
    const target::TargetTable& t = s.mapping->target();
    throw Error(ErrorKind::kFatal,
                fmt::format("cannot apply {} to table {} ({}){}: {}. {}. Checkpoint stays at {}",
                            s.kind == target::SegmentKind::kDelete ? "deletes"
                            : s.kind == target::SegmentKind::kMove ? "key changes"
                                                                   : "upserts",
                            t.name.display(), current_transaction(),
                            culprit.empty() ? "" : ", row with primary key " + culprit, e.what(),
                            target::advice_for_sqlstate(e.sqlstate()),
                            context_.codec.describe(context_.progress.get())),
                e.sqlstate());
}

void GroupApplier::apply_truncate(const ChangeItem& item) {
    std::string names;
    for (const auto& rel : item.truncate.relations) {
        names += (names.empty() ? "" : ", ") + rel->schema + "." + rel->name;
    }
    switch (context_.options.truncate_mode) {
        case TruncateMode::kIgnore:
            spdlog::warn("ignoring TRUNCATE of {} in {} (--truncateMode ignore)", names,
                         current_transaction());
            return;
        case TruncateMode::kError:
            throw Error(
                ErrorKind::kFatal,
                fmt::format("source truncated {} in {} and --truncateMode is error; empty the "
                            "target tables yourself and run again with --truncateMode ignore, or "
                            "use --truncateMode apply",
                            names, current_transaction()));
        case TruncateMode::kApply:
            break;
    }
    settle();
    writer_.open();
    flush();
    std::vector<std::shared_ptr<const target::TargetTable>> tables;
    std::vector<const target::TargetTable*> ptrs;
    for (const auto& rel : item.truncate.relations) {
        tables.push_back(context_.catalog.table(writer_.session(), *rel));
        ptrs.push_back(tables.back().get());
    }
    const target::Dialect& dialect = context_.catalog.dialect();
    target::Dialect::ForeignKeys foreign_keys;
    if (dialect.product() == target::TargetProduct::kCockroach) {
        // To order the DELETEs.
        foreign_keys =
            target::load_foreign_keys(writer_.session(), context_.catalog.catalog_database());
    }
    for (const std::string& sql :
         // Never CASCADE on the target, as PostgreSQL's own subscriber does not: it could
         // empty target tables that are not replicated. A foreign key from such a table makes
         // the TRUNCATE fail with an error naming it instead.
         dialect.truncate(ptrs, /*cascade=*/false, item.truncate.restart_identity, foreign_keys)) {
        writer_.execute(sql);
    }
    spdlog::info("truncated {} on the target ({})", names, current_transaction());
}

}  // namespace rep::sequencer
