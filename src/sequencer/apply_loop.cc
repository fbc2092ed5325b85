#include "sequencer/apply_loop.h"

#include "target/errors.h"
#include "util/pg_conn.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>
#include <utility>

namespace rep {
namespace {

// Largest group (in row changes) kept in memory for an in-place retry. Bigger groups are
// replayed from the source instead, so a huge transaction never has to fit in memory.
constexpr size_t kMaxLogRows = 50000;

std::string checkpoint_text(const ChangeItem& commit) {
    return commit.checkpoint.empty() ? commit.lsn.str() : commit.checkpoint;
}

int64_t unix_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

ApplyLoop::ApplyLoop(ApplyOptions options, const Dialect& dialect, SchemaRef target_schema,
                     PgConn& target, Memo& memo, PgConn* staging, BoundedQueue<ChangeItem>* queue,
                     Progress& progress, metrics::Probe& probe)
    : options_(std::move(options)),
      dialect_(dialect),
      target_(target),
      memo_(memo),
      staging_(staging),
      queue_(queue),
      progress_(progress),
      probe_(probe),
      resolver_(dialect, std::move(target_schema)),
      writer_(dialect),
      builder_(resolver_, target, options_.collapse) {}

void ApplyLoop::run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
        auto item = queue_->pop_for(std::chrono::milliseconds(50));
        if (!item) {
            if (txn_open_ && !source_txn_open_) {
                // The source is quiet: commit what we have rather than wait for more.
                ChangeItem flush;
                flush.kind = ChangeItem::Kind::kKeepalive;
                process_with_retry(std::move(flush));
            }
            if (queue_->closed() && queue_->empty()) {
                break;
            }
            continue;
        }
        apply(std::move(*item));
    }
    finish();
}

void ApplyLoop::apply(ChangeItem item) {
    struct Busy {
        metrics::Probe& probe;
        explicit Busy(metrics::Probe& p) : probe(p) { probe.busy(true); }
        ~Busy() { probe.busy(false); }
    } busy(probe_);
    process_with_retry(std::move(item));
}

void ApplyLoop::finish() {
    if (txn_open_) {
        // A worker commits only at the dispatcher's end-of-group marker; without it the
        // group is incomplete and the dispatcher does not count it as applied.
        if (source_txn_open_ || group_txns_ == 0 || options_.hooks != nullptr) {
            rollback_quietly();
        } else {
            commit_group();
        }
    }
}

void ApplyLoop::process_with_retry(ChangeItem item) {
    const ChangeItem* current = &item;
    if (log_complete_ && group_rows_ + item.weight() <= kMaxLogRows) {
        log_.push_back(std::move(item));
        current = &log_.back();
    } else if (log_complete_) {
        log_complete_ = false;
        log_.clear();
    }
    try {
        process(*current);
        if (commit_due_) {
            commit_group();
        }
        return;
    } catch (const Error& e) {
        if (e.retryable() && commit_landed()) {
            committed_group();
            return;
        }
        rollback_quietly();
        if (!e.retryable()) {
            salvage_group(e);
            return;
        }
        if (!log_complete_) {
            throw;
        }
        retry_group(e);
    }
}

void ApplyLoop::salvage_group(const Error& original) {
    // A fatal error in one source transaction must not take down the transactions grouped
    // with it. Re-apply the group in strict source order, one source transaction at a time,
    // writing each before the next. If that succeeds, the error came from folding changes
    // (e.g. a unique index the catalog check missed) and the group simply goes on. Otherwise
    // commit the prefix that applied and report the failing transaction's error, so the
    // checkpoint stops right before it and the message names it exactly.
    if (!log_complete_) {
        throw original;
    }
    builder_.set_collapse(false);
    struct RestoreCollapse {
        BatchBuilder& builder;
        bool on;
        ~RestoreCollapse() { builder.set_collapse(on); }
    } restore{builder_, options_.collapse};
    std::vector<ChangeItem> items = std::move(log_);
    log_.clear();
    size_t good_end = 0;  // items [0, good_end) form whole transactions that applied
    std::optional<Error> failure;
    try {
        for (size_t i = 0; i < items.size(); ++i) {
            process(items[i]);
            if (items[i].kind == ChangeItem::Kind::kCommit) {
                flush_segments();
                good_end = i + 1;
            }
        }
        flush_segments();
    } catch (const Error& e) {
        failure = e;
    }
    if (!failure) {
        spdlog::warn(
            "a batch failed but the same changes applied in strict source order; "
            "continuing ({})",
            original.what());
        log_ = std::move(items);
        if (txn_open_ && !source_txn_open_) {
            commit_group();
        }
        return;
    }
    rollback_quietly();
    try {
        for (size_t i = 0; i < good_end; ++i) {
            process(items[i]);
        }
        if (txn_open_) {
            commit_group();
        }
    } catch (const Error& e) {
        rollback_quietly();
        spdlog::warn("could not commit the transactions before the failing one: {}", e.what());
    }
    throw *failure;
}

void ApplyLoop::retry_group(const Error& first) {
    Backoff backoff(options_.retry);
    std::string last = first.what();
    for (;;) {
        if (backoff.exhausted()) {
            throw Error(ErrorKind::kFatal,
                        fmt::format("target still failing after {} retries (--maxRetries): {}",
                                    backoff.attempts(), last));
        }
        Duration delay = backoff.next();
        spdlog::warn("retrying target transaction ({} queued items) in {}: {}", log_.size(),
                     format_go_duration(delay), last);
        std::this_thread::sleep_for(delay);
        if (commit_in_doubt_) {
            // Never apply a group again while its last COMMIT may have landed.
            if (commit_landed()) {
                committed_group();
                return;
            }
            if (commit_in_doubt_) {
                last = "cannot tell whether the last COMMIT landed";
                continue;
            }
        }
        try {
            for (const ChangeItem& it : log_) {
                process(it);
            }
            if (commit_due_) {
                commit_group();
            }
            return;
        } catch (const Error& e) {
            rollback_quietly();
            if (!e.retryable()) {
                salvage_group(e);
                return;
            }
            last = e.what();
        }
    }
}

void ApplyLoop::begin_target_txn() {
    if (txn_open_) {
        return;
    }
    if (!target_.connected()) {
        target_.connect();  // after a lost connection; prepared statements start afresh
    }
    txn_open_ = true;
    begun_ = false;
    group_started_ = std::chrono::steady_clock::now();
}

void ApplyLoop::process(const ChangeItem& item) {
    commit_due_ = false;
    switch (item.kind) {
        case ChangeItem::Kind::kBegin:
            source_txn_open_ = true;
            skipping_ = options_.applied != nullptr && options_.applied->contains(item.lsn);
            if (skipping_) {
                spdlog::debug("skipping source transaction {} (commit at {}): already applied",
                              item.xid, item.lsn.str());
            }
            current_xid_ = item.xid;
            current_lsn_ = item.lsn;
            txn_rows_ = 0;
            current_txn_ = item.checkpoint.empty()
                               ? fmt::format("source transaction {}, commit at LSN {}", item.xid,
                                             item.lsn.str())
                               : "source transaction " + item.checkpoint;
            if (group_oldest_us_ == 0) {
                group_oldest_us_ = item.commit_time_us;
            }
            group_newest_us_ = item.commit_time_us;
            break;
        case ChangeItem::Kind::kChanges:
            if (skipping_) {
                break;
            }
            begin_target_txn();
            for (const Mutation& m : item.mutations) {
                builder_.add(m);
                ++txn_rows_;
                if (mid_group_flush_due()) {
                    flush_segments();
                }
            }
            group_rows_ += item.mutations.size();
            break;
        case ChangeItem::Kind::kTruncate:
            if (!skipping_) {
                apply_truncate(item);
            }
            break;
        case ChangeItem::Kind::kCommit: {
            source_txn_open_ = false;
            bool skipped = std::exchange(skipping_, false);
            if (options_.hooks != nullptr) {
                // A worker: every transaction it gets belongs to the dispatcher's group, which
                // ends at the next kKeepalive.
                if (group_txns_ == 0) {
                    group_commits_.lo = current_lsn_;
                }
                group_commits_.hi = current_lsn_;
                group_end_ = item.lsn;
                group_checkpoint_ = checkpoint_text(item);
                ++group_txns_;
                break;
            }
            if (!txn_open_) {
                // Nothing to write (an empty or fully filtered transaction): the position
                // still moves, so the source can release its WAL.
                progress_.advance(item.lsn, checkpoint_text(item));
                log_.clear();
                log_complete_ = true;
                break;
            }
            group_end_ = item.lsn;
            group_checkpoint_ = checkpoint_text(item);
            group_txns_ += skipped ? 0 : 1;
            commit_due_ =
                group_rows_ >= options_.flush_size || group_txns_ >= options_.timestamp_limit ||
                std::chrono::steady_clock::now() - group_started_ >= options_.flush_period ||
                queue_ == nullptr || queue_->empty();
            break;
        }
        case ChangeItem::Kind::kKeepalive:
            if (options_.hooks != nullptr) {
                commit_due_ = !source_txn_open_;  // the dispatcher's end of the group
            } else if (txn_open_ && !source_txn_open_) {
                keepalive_ = std::max(keepalive_, item.lsn);
                commit_due_ = true;
            } else if (!txn_open_ && !source_txn_open_) {
                progress_.advance(item.lsn);
                log_.clear();
                log_complete_ = true;
            }
            break;
    }
}

bool ApplyLoop::mid_group_flush_due() const {
    // Writing before the group commits bounds memory, but costs a round trip of its own. A
    // group of small transactions closes at the commit that takes it past --flushSize, which
    // is near: let it finish and send data, checkpoint and COMMIT together (one round trip),
    // up to twice the size. A transaction of --flushSize rows or more is written as it comes.
    size_t rows = builder_.rows();
    return rows >= options_.flush_size &&
           (txn_rows_ >= options_.flush_size || rows >= 2 * options_.flush_size);
}

void ApplyLoop::send_begin() {
    if (!begun_) {
        target_.exec("BEGIN");
        begun_ = true;
    }
}

void ApplyLoop::write_pipeline(bool commit) {
    std::vector<Segment> segments = builder_.take_segments();
    if (segments.empty() && !commit) {
        return;
    }
    // One round trip for all of it: on a distant target, round trips and not rows are what
    // a batch costs.
    static const std::string kBegin = "BEGIN";
    static const std::string kCommit = "COMMIT";
    std::vector<PgConn::PipelineCall> calls;
    std::vector<std::string> memo_params;
    size_t first_segment = 0;
    if (!begun_) {
        calls.push_back({nullptr, &kBegin, {}});
        first_segment = 1;
    }
    writer_.append_calls(segments, calls);
    std::string memo_sql;
    if (commit) {
        std::vector<std::pair<std::string, std::string>> rows;
        if (options_.hooks != nullptr) {
            rows = options_.hooks->memo_rows(group_commits_);
        } else if (options_.memo_in_target) {
            rows.emplace_back(options_.memo_key, group_checkpoint_);
        }
        if (!rows.empty()) {
            memo_sql = memo_.upsert_sql(rows.size());
            for (auto& [key, value] : rows) {
                memo_params.push_back(std::move(key));
                memo_params.push_back(std::move(value));
            }
            PgConn::PipelineCall call{nullptr, &memo_sql, {}};
            for (const std::string& p : memo_params) {
                call.values.push_back(p.c_str());
            }
            calls.push_back(std::move(call));
        }
        calls.push_back({nullptr, &kCommit, {}});
        // COMMIT with no transaction open only warns; make sure ours is still there (unless
        // this pipeline begins it), so the position never moves past data not committed.
        if (begun_ && !target_.in_transaction()) {
            throw Error(ErrorKind::kRetryable,
                        "the target transaction was lost before COMMIT; re-applying the group");
        }
    }
    auto started = std::chrono::steady_clock::now();
    size_t failed = 0;
    try {
        target_.exec_pipeline(calls, &failed);
    } catch (const Error& e) {
        begun_ = true;  // a transaction may be open, if aborted: rolling back ends it
        // The connection broke with COMMIT sent: the server may have committed. Before the
        // group is applied again, the checkpoint written with it is read (commit_landed).
        commit_in_doubt_ = commit && !target_.connected();
        if (!e.retryable() && failed >= first_segment && failed - first_segment < segments.size()) {
            Segment s = std::move(segments[failed - first_segment]);  // rollback clears the builder
            fail_segment(e, s);
        }
        throw;
    }
    begun_ = !commit;
    record_written(
        segments,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void ApplyLoop::record_written(const std::vector<Segment>& segments, double total_seconds) {
    size_t total_rows = 0;
    for (const Segment& s : segments) {
        total_rows += s.rows.size();
    }
    for (const Segment& s : segments) {
        size_t n = s.rows.size();
        // The statements ran together: each is charged its share of the time by rows.
        double seconds = total_seconds * static_cast<double>(n) / static_cast<double>(total_rows);
        bool deletes = s.kind == MutationKind::kDelete;
        const std::string& table = s.mapping->target().name.table;
        double age =
            group_oldest_us_ > 0 ? static_cast<double>(unix_now_us() - group_oldest_us_) / 1e6 : -1;
        probe_.wrote_batch(table, n, seconds, age);
        auto& counts = pending_counts_[table];
        (deletes ? counts.second : counts.first) += n;
        spdlog::debug("{} {} rows {} {} in {:.3f}ms", deletes ? "deleted" : "upserted", n,
                      deletes ? "from" : "into", s.mapping->target().name.display(),
                      seconds * 1000);
        rows_applied_ += n;
    }
}

void ApplyLoop::fail_segment(const Error& e, const Segment& s) {
    probe_.apply_error(s.mapping->target().name.table);
    rollback_quietly();
    // Find the row the batch choked on by writing its rows one at a time in a throwaway
    // transaction, so the message can name the primary key.
    std::string culprit;
    try {
        target_.exec("BEGIN");
        for (size_t i = 0; i < s.rows.size() && culprit.empty(); ++i) {
            try {
                writer_.write_row(target_, s, i);
            } catch (const Error&) {
                culprit = s.mapping->describe_key(s.rows[i]);
            }
        }
    } catch (const Error&) {
    }
    rollback_quietly();
    const TargetTable& t = s.mapping->target();
    throw Error(
        ErrorKind::kFatal,
        fmt::format("cannot apply {} to table {} ({}){}: {}. {}. Checkpoint stays at {}",
                    s.kind == MutationKind::kDelete ? "deletes" : "upserts", t.name.display(),
                    current_txn_, culprit.empty() ? "" : ", row with primary key " + culprit,
                    e.what(), advice_for_sqlstate(e.sqlstate()), position_text()),
        e.sqlstate());
}

std::string ApplyLoop::position_text() const {
    std::string cp = progress_.checkpoint();
    if (cp.empty() || cp.find('/') != std::string::npos) {
        return "LSN " + progress_.get().str();
    }
    return "GTID " + cp;
}

void ApplyLoop::apply_truncate(const ChangeItem& item) {
    std::string names;
    for (const auto& rel : item.truncate.relations) {
        names += (names.empty() ? "" : ", ") + rel->schema + "." + rel->name;
    }
    switch (options_.truncate_mode) {
        case TruncateMode::kIgnore:
            spdlog::warn("ignoring TRUNCATE of {} in {} (--truncateMode ignore)", names,
                         current_txn_);
            return;
        case TruncateMode::kError:
            throw Error(
                ErrorKind::kFatal,
                fmt::format("source truncated {} in {} and --truncateMode is error; empty the "
                            "target tables yourself and run again with --truncateMode ignore, or "
                            "use --truncateMode apply",
                            names, current_txn_));
        case TruncateMode::kApply:
            break;
    }
    begin_target_txn();
    flush_segments();
    send_begin();
    std::vector<std::shared_ptr<const TargetTable>> tables;
    std::vector<const TargetTable*> ptrs;
    for (const auto& rel : item.truncate.relations) {
        tables.push_back(resolver_.table(target_, *rel));
        ptrs.push_back(tables.back().get());
    }
    for (const std::string& sql :
         // Never CASCADE on the target, as PostgreSQL's own subscriber does not: it could
         // empty target tables that are not replicated. A foreign key from such a table makes
         // the TRUNCATE fail with an error naming it instead.
         dialect_.truncate(ptrs, /*cascade=*/false, item.truncate.restart_identity)) {
        target_.exec(sql);
    }
    spdlog::info("truncated {} on the target (source transaction {})", names, current_xid_);
}

void ApplyLoop::commit_group() {
    if (options_.hooks != nullptr && !txn_open_) {
        // The group wrote nothing (filtered rows, an ignored TRUNCATE): it is done all the same.
        if (group_txns_ > 0) {
            options_.hooks->after_commit(group_commits_);
        }
        txns_applied_ += group_txns_;
        clear_group();
        return;
    }
    write_pipeline(/*commit=*/true);
    committed_group();
}

bool ApplyLoop::commit_landed() {
    if (!commit_in_doubt_) {
        return false;
    }
    if (!options_.memo_in_target) {
        commit_in_doubt_ = false;  // no way to tell: re-applied, at-least-once (staging.md §4.2)
        return false;
    }
    try {
        if (!target_.connected()) {
            target_.connect();  // the old one broke; no transaction is open on either
        }
        bool landed = options_.hooks != nullptr
                          ? options_.hooks->landed(target_, group_commits_)
                          : memo_.read(target_, options_.memo_key) == group_checkpoint_;
        commit_in_doubt_ = false;
        if (landed) {
            spdlog::warn(
                "the target connection broke during COMMIT, but the checkpoint written with it "
                "shows the commit landed; {} source transactions are not applied again",
                group_txns_);
        }
        return landed;
    } catch (const Error& e) {
        spdlog::warn("cannot tell yet whether the last COMMIT landed: {}", e.what());
        return false;
    }
}

void ApplyLoop::committed_group() {
    txn_open_ = false;
    begun_ = false;
    if (options_.hooks != nullptr) {
        options_.hooks->after_commit(group_commits_);
    } else {
        progress_.advance(group_end_, group_checkpoint_);
        if (!options_.memo_in_target && staging_ != nullptr) {
            // At-least-once: the data is committed; if this write fails the pipeline restarts
            // from the older memo position and re-applies idempotently.
            if (!staging_->connected()) {
                staging_->connect();
            }
            memo_.write(*staging_, options_.memo_key, group_checkpoint_);
        }
        if (keepalive_ > group_end_) {
            progress_.advance(keepalive_);
        }
        probe_.set_positions(progress_.get(), group_end_);
    }
    keepalive_ = Lsn();
    txns_applied_ += group_txns_;
    for (const auto& [table, counts] : pending_counts_) {
        probe_.committed_rows(table, counts.first, counts.second);
    }
    pending_counts_.clear();
    probe_.committed(group_oldest_us_, group_newest_us_, group_txns_);
    spdlog::debug("committed {} source transactions ({} rows); progressed to {}{}", group_txns_,
                  group_rows_, group_checkpoint_ == group_end_.str() ? "LSN " : "GTID ",
                  group_checkpoint_);
    clear_group();
}

void ApplyLoop::clear_group() {
    group_txns_ = 0;
    group_rows_ = 0;
    group_oldest_us_ = 0;
    commit_due_ = false;
    log_.clear();
    log_complete_ = true;
}

void ApplyLoop::rollback_quietly() {
    if (target_.connected()) {
        try {
            target_.exec("ROLLBACK");
        } catch (const Error&) {
        }
    }
    txn_open_ = false;
    begun_ = false;
    source_txn_open_ = false;
    skipping_ = false;
    group_rows_ = 0;
    group_txns_ = 0;
    group_oldest_us_ = 0;
    commit_due_ = false;
    // A keepalive seen in this group only counts once the group commits; forget it, or a
    // later commit of fewer transactions (salvage) would confirm past uncommitted data.
    keepalive_ = Lsn();
    pending_counts_.clear();
    builder_.clear();
}

}  // namespace rep
