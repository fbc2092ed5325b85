#include "sequencer/retrying_applier.h"

#include "sequencer/apply_context.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <thread>

namespace rep::sequencer {
namespace {

// Strict source order for as long as it lives; then folding as configured again
// (--collapseMutations), however the salvage ends.
class StrictOrder {
public:
    StrictOrder(GroupApplier& applier, bool collapse) : applier_(applier), collapse_(collapse) {
        applier_.set_collapse(false);
    }
    ~StrictOrder() { applier_.set_collapse(collapse_); }
    StrictOrder(const StrictOrder&) = delete;
    StrictOrder& operator=(const StrictOrder&) = delete;

private:
    GroupApplier& applier_;
    bool collapse_;
};

}  // namespace

void RetryingApplier::apply(ChangeItem item) {
    const ChangeItem* current = &item;
    size_t weight = item.mutations.size();
    bool keep = log_complete_ && logged_rows_ + weight <= kRetryKeptRows;
    if (keep && logged_rows_ + weight > ordinary_rows_) {
        // Ordinary groups are bounded in rows by the grouper and keep every recovery, so
        // bytes are only counted (the log so far, then item by item) once a group outgrows
        // one: a streamed transaction of wide rows stops being kept at 32 MiB.
        if (logged_rows_ <= ordinary_rows_) {
            logged_bytes_ = 0;
            for (const ChangeItem& kept : log_) {
                logged_bytes_ += kept.approx_bytes();
            }
        }
        logged_bytes_ += item.approx_bytes();
        keep = logged_bytes_ <= kRetryKeptBytes;
    }
    if (keep) {
        logged_rows_ += weight;
        log_.push_back(std::move(item));
        current = &log_.back();
    } else if (log_complete_) {
        log_complete_ = false;
        log_.clear();
    }
    try {
        applier_.apply(*current);
    } catch (const Error& e) {
        recover(e);
    }
    drop_answered();
}

void RetryingApplier::end_group(bool next_at_hand) {
    ending_ = true;
    try {
        // Only a group kept whole may go out unanswered: a failure read late is handled by
        // applying it again.
        applier_.commit(next_at_hand && may_defer_ && log_complete_);
    } catch (const Error& e) {
        recover(e);  // commits the group, or throws
        drop_answered();
        return;
    }
    if (applier_.unanswered() > 0) {
        sent_logs_.push_back(std::move(log_));  // it went out unanswered
    }
    drop_answered();
    clear();
}

void RetryingApplier::settle() {
    if (applier_.unanswered() == 0) {
        return;
    }
    try {
        applier_.settle();
    } catch (const Error& e) {
        recover(e);
    }
    drop_answered();
}

void RetryingApplier::drop_answered() {
    while (sent_logs_.size() > applier_.unanswered()) {
        sent_logs_.pop_front();
    }
}

void RetryingApplier::abandon() {
    settle();
    applier_.rollback();
    clear();
}

void RetryingApplier::clear() {
    log_.clear();
    logged_rows_ = 0;
    logged_bytes_ = 0;
    log_complete_ = true;
    ending_ = false;
}

void RetryingApplier::recover_chain(const Error& e) {
    if (applier_.fenced_out(e)) {
        applier_.rollback();
        sent_logs_.clear();
        throw e;  // the stream's lease is lost: nothing may commit here
    }
    // The open group went out too if the applier holds one more unanswered group than the
    // logs kept for them: it was chained behind the one that failed.
    bool open_sent = applier_.unanswered() > sent_logs_.size();
    std::deque<std::vector<ChangeItem>> again = std::move(sent_logs_);
    sent_logs_.clear();
    if (open_sent) {
        again.push_back(std::move(log_));
    }
    std::vector<ChangeItem> open_log = open_sent ? std::vector<ChangeItem>{} : std::move(log_);
    bool open_ending = ending_;
    bool open_complete = log_complete_;
    size_t open_rows = logged_rows_;
    size_t open_bytes = logged_bytes_;
    clear();
    // If the target cannot tell what landed, the pipeline restarts from the checkpoint, which
    // is exact either way; the error says what failed first.
    size_t landed = 0;
    try {
        landed = applier_.recover_chain();
    } catch (const Error& unknown) {
        // Said here too: a restart caused by a lost lease reports that instead.
        std::string message = fmt::format(
            "{}; which of the commits sent without waiting for answers landed cannot be told "
            "yet ({}), so the pipeline restarts from the checkpoint",
            e.what(), unknown.what());
        spdlog::warn("{}", message);
        throw Error(ErrorKind::kRetryable, message, e.sqlstate());
    }
    again.erase(again.begin(),
                again.begin() + static_cast<ptrdiff_t>(std::min(landed, again.size())));
    spdlog::warn("{}; applying {} group(s) sent behind it again, one at a time", e.what(),
                 again.size());
    struct Restore {
        bool& flag;
        ~Restore() { flag = true; }
    } restore{may_defer_};
    may_defer_ = false;
    for (std::vector<ChangeItem>& group : again) {
        log_ = std::move(group);
        ending_ = true;
        for (const ChangeItem& item : log_) {
            logged_rows_ += item.mutations.size();
        }
        try {
            replay();  // commits and clears
        } catch (const Error& err) {
            recover(err);
        }
    }
    if (open_sent) {
        clear();
        return;
    }
    log_ = std::move(open_log);
    ending_ = open_ending;
    log_complete_ = open_complete;
    logged_rows_ = open_rows;
    logged_bytes_ = open_bytes;
    if (!log_complete_) {
        throw Error(ErrorKind::kRetryable,
                    fmt::format("a source transaction too large to keep in memory was being "
                                "applied when an earlier group failed; it will be read from the "
                                "source again: {}",
                                e.what()),
                    e.sqlstate());
    }
    try {
        replay();
    } catch (const Error& err) {
        recover(err);
    }
}

void RetryingApplier::recover(const Error& e) {
    if (applier_.settle_failed()) {
        recover_chain(e);
        return;
    }
    if (applier_.unanswered() > 0) {
        // The open group failed with commits still unanswered (they are read before any
        // statement of its own, so this is a failure without one): read them first, so the
        // rollback below cannot drop groups that landed without reporting them.
        try {
            applier_.settle();
        } catch (const Error& late) {
            recover_chain(late);  // applies the open group again too
            return;
        }
        drop_answered();
    }
    if (applier_.fenced_out(e)) {
        applier_.rollback();
        throw e;  // the stream's lease is lost: nothing of this group may commit here
    }
    if (applier_.turn_aborted()) {
        applier_.rollback();
        throw e;  // an earlier group failed: this one may not commit after it
    }
    if (applier_.gave_way()) {
        // Its rows held locks while it waited for earlier groups to commit: roll back, wait
        // holding nothing, then apply it again, its turn come (not a retry: nothing failed).
        applier_.rollback();
        if (!log_complete_) {
            throw e;
        }
        spdlog::warn("{}", e.what());
        applier_.wait_turn();
        try {
            replay();
        } catch (const Error& again) {
            recover(again);
        }
        return;
    }
    if (landed_after_all(e)) {
        clear();
        return;
    }
    applier_.rollback();
    if (!e.retryable()) {
        salvage(e);
        return;
    }
    if (!log_complete_) {
        // Too large to replay from memory: the pipeline restarts from the checkpoint and the
        // source sends the transaction again, to be applied whole once more (never split:
        // the target would show half of it). Say so, since on CockroachDB a transaction this
        // large is the one that conflicts and runs into deadlines, and may do so every time.
        throw Error(
            ErrorKind::kRetryable,
            fmt::format(
                "a source transaction of more than {} row changes or {} MiB failed to apply and "
                "will be "
                "read from the source again and applied whole once more: {}. If this repeats "
                "with SQLSTATE 40001 (restart, transaction deadline exceeded), other writers "
                "or a schema change on its tables are holding it back; see docs/cockroachdb.md "
                "§6 (large transactions)",
                kRetryKeptRows, kRetryKeptBytes >> 20, e.what()),
            e.sqlstate());
    }
    retry(e);
}

void RetryingApplier::replay() {
    for (const ChangeItem& item : log_) {
        applier_.apply(item);
    }
    if (ending_) {
        applier_.commit();
        clear();
    }
}

void RetryingApplier::retry(const Error& first) {
    util::Backoff backoff(retry_);
    std::string last = first.what();
    for (;;) {
        if (backoff.exhausted()) {
            // Not fatal: the pipeline starts again from the last checkpoint (as MOLT's apply
            // loop restarts), and keeps doing so while the error lasts.
            throw Error(ErrorKind::kRetryable,
                        fmt::format("target still failing after {} retries (--maxRetries), "
                                    "restarting from the last checkpoint: {}",
                                    backoff.attempts(), last));
        }
        Duration delay = backoff.next();
        applier_.retrying();
        spdlog::warn("retrying target transaction ({} queued items) in {}: {}", log_.size(),
                     format_go_duration(delay), last);
        std::this_thread::sleep_for(delay);
        if (applier_.in_doubt()) {
            // Never apply a group again while its last COMMIT may have landed.
            if (applier_.commit_landed()) {
                clear();
                return;
            }
            if (applier_.in_doubt()) {
                last = "cannot tell whether the last COMMIT landed";
                continue;
            }
        }
        try {
            replay();
            return;
        } catch (const Error& e) {
            if (applier_.gave_way() || applier_.turn_aborted() || applier_.fenced_out(e)) {
                recover(e);  // not a failure of the target: its own handling
                return;
            }
            if (landed_after_all(e)) {
                clear();
                return;
            }
            applier_.rollback();
            if (!e.retryable()) {
                salvage(e);
                return;
            }
            last = e.what();
        }
    }
}

bool RetryingApplier::landed_after_all(const Error& e) {
    if (!applier_.in_doubt()) {
        return false;
    }
    if (applier_.commit_landed()) {
        return true;
    }
    if (applier_.in_doubt() && !e.retryable()) {
        // Salvage would apply the group again, one transaction at a time, whether or not its
        // COMMIT landed: the pipeline restarts from the checkpoint instead, which is exact.
        applier_.rollback();
        throw Error(ErrorKind::kRetryable,
                    fmt::format("{}; whether the COMMIT landed cannot be told yet, so the "
                                "pipeline restarts from the checkpoint",
                                e.what()),
                    e.sqlstate());
    }
    return false;  // it did not land, or (retryable) the retries ask again
}

void RetryingApplier::salvage(const Error& original) {
    // A fatal error in one source transaction must not take down the transactions grouped
    // with it. Re-apply the group in strict source order, one source transaction at a time,
    // writing each before the next. If that succeeds, the error came from folding changes
    // (e.g. a unique index the catalog check missed) and the group simply goes on. Otherwise
    // commit the prefix that applied and report the failing transaction's error, so the
    // checkpoint stops right before it and the message names it exactly.
    if (!log_complete_) {
        throw original;
    }
    // With ordered commits, the part that applies may only commit after every earlier group:
    // wait for that now, while nothing is held on the target.
    applier_.wait_turn();
    std::optional<Error> failure;
    size_t good_end = 0;  // items [0, good_end) form whole transactions that applied
    // Strict order until the salvage is over: the prefix is committed in strict order too,
    // since folding may be what failed.
    StrictOrder strict(applier_, collapse_);
    try {
        for (size_t i = 0; i < log_.size(); ++i) {
            applier_.apply(log_[i]);
            if (log_[i].kind == ChangeItem::Kind::kCommit) {
                applier_.flush();
                good_end = i + 1;
            }
        }
        applier_.flush();
    } catch (const Error& e) {
        failure = e;
    }
    if (!failure) {
        spdlog::warn(
            "a batch failed but the same changes applied in strict source order; "
            "continuing ({})",
            original.what());
        if (ending_) {
            applier_.commit();
            clear();
        }
        return;
    }
    applier_.rollback();
    try {
        for (size_t i = 0; i < good_end; ++i) {
            applier_.apply(log_[i]);
        }
        if (good_end > 0) {
            applier_.commit();
        }
    } catch (const Error& e) {
        applier_.rollback();
        spdlog::warn("could not commit the transactions before the failing one: {}", e.what());
    }
    throw *failure;
}

}  // namespace rep::sequencer
