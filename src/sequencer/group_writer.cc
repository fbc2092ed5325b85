#include "sequencer/group_writer.h"

#include "util/transaction.h"

#include <chrono>
#include <cstdint>

namespace rep::sequencer {

using target::Segment;
using util::TargetSession;

void TransactionFence::check_not_revoked() const {
    if (revoked != nullptr && revoked->load()) {
        throw fatal(lost);
    }
}

void TransactionFence::execute(util::TargetSession& session) const {
    try {
        session.execute(sql, util::TargetSession::Params(params.begin(), params.end()));
    } catch (const Error& e) {
        if (says_lost(e)) {
            throw fatal(lost);
        }
        throw;
    }
}

void run_fenced(util::TargetSession& session, const TransactionFence* fence,
                const std::function<void()>& body) {
    if (fence == nullptr || !fence->has_sql()) {
        body();
        return;
    }
    util::Transaction txn(session);
    fence->execute(session);
    body();
    fence->check_not_revoked();
    txn.commit();
}

GroupWriter::GroupWriter(const target::Dialect& dialect, size_t max_message_bytes,
                         TargetSession& session, SegmentFailure on_failure,
                         const TransactionFence* fence)
    : session_(session),
      writer_(dialect, max_message_bytes),
      on_failure_(std::move(on_failure)),
      fence_(fence) {}

void GroupWriter::open() {
    if (open_) {
        return;
    }
    if (!session_.connected() && sent_.empty()) {
        // After a lost connection. Not while answers are outstanding: reading them is how
        // the loss of the commits they answer is noticed and settled.
        session_.connect();
    }
    open_ = true;
    begun_ = false;
}

void GroupWriter::prepare_to_settle() {
    if (!session_.connected()) {
        session_.connect();  // the old one broke; no transaction is open on either
        return;
    }
    // The server answered the COMMIT with an error, which normally ends the transaction; one
    // that somehow remained (aborted) would refuse the checkpoint query. CockroachDB answers a
    // ROLLBACK outside a transaction with an error (25P01), PostgreSQL with a warning: either
    // way the session is then outside any transaction.
    rollback();
}

void GroupWriter::send_begin() {
    if (!begun_) {
        session_.execute("BEGIN");
        begun_ = true;
        if (fence_ && fence_->has_sql()) {
            fence_->execute(session_);
        }
    }
}

void GroupWriter::execute(const std::string& sql) {
    send_begin();
    session_.execute(sql);
}

double GroupWriter::write(std::vector<Segment>& segments) {
    return send(segments, nullptr);
}

double GroupWriter::write_for_handler(std::vector<Segment>& segments) {
    return send(segments, nullptr, /*report_failure=*/false);
}

double GroupWriter::commit(std::vector<Segment>& segments, const CheckpointWrite& checkpoint) {
    return send(segments, &checkpoint);
}

void GroupWriter::send_commit(std::vector<Segment>& segments, const CheckpointWrite& checkpoint,
                              const CheckpointWrite* guard) {
    send(segments, &checkpoint, /*report_failure=*/false, guard, /*defer=*/true);
}

double GroupWriter::finish_commit() {
    Sent sent = sent_.front();
    sent_.pop_front();
    size_t failed_call = 0;
    try {
        session_.finish_pipeline(&failed_call);
    } catch (const Error& e) {
        forget_sent_if_broken();
        note_failure(e, /*commit=*/true, failed_call, sent.fence_call);
        throw;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - sent.at).count();
}

void GroupWriter::drain() {
    while (!sent_.empty()) {
        sent_.pop_front();
        size_t failed_call = 0;
        try {
            session_.finish_pipeline(&failed_call);
        } catch (const Error&) {
            forget_sent_if_broken();
        }
    }
}

void GroupWriter::note_failure(const Error& e, bool commit, size_t failed_call, size_t fence_call) {
    begun_ = true;  // a transaction may be open, if aborted: rolling back ends it
    // With COMMIT sent, the server may have committed unless it answered an ordinary error
    // (the transaction then ends in a rollback) on a connection that still works: the
    // connection broke; CockroachDB answered 40003 ("statement completion unknown"); or an
    // operator or shutdown ended the session (class 57, such as 57P01 from
    // pg_terminate_backend, which libpq may read before it sees the connection close, and
    // which can come in place of the answer to a COMMIT that was done). Then, before the group
    // is applied again, the checkpoint written with it is read.
    const std::string& state = e.sqlstate();
    bool ordinary = session_.connected() && !state.empty() && !state.starts_with("57") &&
                    !state.starts_with("08") && state != "40003";
    in_doubt_ = commit && !ordinary;
    doubt_ = in_doubt_ ? e.what() : "";
    if (fence_call != SIZE_MAX && failed_call == fence_call && TransactionFence::says_lost(e)) {
        throw fatal(fence_->lost);
    }
}

double GroupWriter::send(std::vector<Segment>& segments, const CheckpointWrite* checkpoint,
                         bool report_failure, const CheckpointWrite* guard, bool defer) {
    bool commit = checkpoint != nullptr;
    if (segments.empty() && !commit) {
        return 0;
    }
    // One round trip for all of it: on a distant target, round trips and not rows are what
    // a batch costs.
    static const std::string kBegin = "BEGIN";
    static const std::string kCommit = "COMMIT";
    std::vector<TargetSession::PipelineCall> calls;
    size_t first_segment = 0;
    size_t fence_call = SIZE_MAX;
    if (!begun_) {
        calls.push_back({nullptr, &kBegin, {}});
        if (fence_ && fence_->has_sql()) {
            // First in the transaction: nothing of it may commit once another process holds
            // the stream.
            TargetSession::PipelineCall call{nullptr, &fence_->sql, {}};
            for (const std::string& p : fence_->params) {
                call.values.push_back(p.c_str());
            }
            fence_call = calls.size();
            calls.push_back(std::move(call));
        }
        if (guard != nullptr) {
            TargetSession::PipelineCall call{nullptr, &guard->sql, {}};
            for (const std::string& p : guard->params) {
                call.values.push_back(p.c_str());
            }
            calls.push_back(std::move(call));
        }
        first_segment = calls.size();
    } else if (guard != nullptr) {
        throw Error(ErrorKind::kFatal, "internal error: a chained group had begun before");
    }
    writer_.append_calls(segments, calls);
    const size_t segment_calls = calls.size() - first_segment;
    if (commit) {
        if (!checkpoint->sql.empty()) {
            TargetSession::PipelineCall call{nullptr, &checkpoint->sql, {}};
            for (const std::string& p : checkpoint->params) {
                call.values.push_back(p.c_str());
            }
            calls.push_back(std::move(call));
        }
        calls.push_back({nullptr, &kCommit, {}});
        // COMMIT with no transaction open only warns; make sure ours is still there (unless
        // this pipeline begins it), so the position never moves past data not committed.
        if (begun_ && !session_.in_transaction()) {
            throw Error(ErrorKind::kRetryable,
                        "the target transaction was lost before COMMIT; re-applying the group");
        }
    }
    if (commit && fence_) {
        fence_->check_not_revoked();  // a COMMIT not sent yet need not wait for the fence
    }
    auto started = std::chrono::steady_clock::now();
    if (defer) {
        try {
            session_.send_pipeline(calls);
        } catch (const Error& e) {
            forget_sent_if_broken();
            note_failure(e, commit, SIZE_MAX, fence_call);
            throw;
        }
        sent_.push_back({started, fence_call});
        begun_ = false;
        open_ = false;
        return 0;
    }
    size_t failed = 0;
    try {
        session_.exec_pipeline(calls, &failed);
    } catch (const Error& e) {
        note_failure(e, commit, failed, fence_call);
        if (report_failure && !e.retryable() && failed >= first_segment &&
            failed - first_segment < segment_calls) {
            on_failure_(e, segments[writer_.segment_of_call(failed - first_segment)]);
        }
        throw;
    }
    begun_ = !commit;
    open_ = !commit;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void GroupWriter::rollback() {
    if (session_.connected()) {
        try {
            session_.execute("ROLLBACK");
        } catch (const Error&) {
        }
    }
    open_ = false;
    begun_ = false;
}

std::string GroupWriter::find_failing_row(const Segment& segment) {
    rollback();
    std::string culprit;
    try {
        session_.execute("BEGIN");
        for (size_t i = 0; i < segment.rows.size() && culprit.empty(); ++i) {
            try {
                writer_.write_row(session_, segment, i);
            } catch (const Error&) {
                culprit = segment.mapping->describe_key(segment.rows[i]);
            }
        }
    } catch (const Error&) {
    }
    rollback();
    return culprit;
}

}  // namespace rep::sequencer
