#pragma once

#include "base/error.h"
#include "target/dialect.h"
#include "target/segment_writer.h"
#include "util/target_session.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace rep::sequencer {

// The checkpoint rows written with a group, as one upsert statement (staging::Memo).
struct CheckpointWrite {
    std::string sql;  // empty: nothing to write
    std::vector<std::string> params;
};

// What keeps a process that lost the stream's lease (staging/lease.h) from writing: `sql`
// opens every target transaction and fails it (SQLSTATE 22012) unless this process still
// holds the lease (empty when the memo is in another database, where it cannot help), and
// `revoked`, set once the process knows it lost the lease, stops every COMMIT not yet sent.
// `lost` is the error either way.
struct TransactionFence {
    std::string sql;
    std::vector<std::string> params;
    std::string lost;
    const std::atomic<bool>* revoked = nullptr;

    bool has_sql() const { return !sql.empty(); }
    // Throws `lost` (fatal) if the process knows it lost the lease.
    void check_not_revoked() const;
    // Runs the statement in `session`'s open transaction; throws `lost` (fatal) if it fails
    // because the lease is lost.
    void execute(util::TargetSession& session) const;
    // Whether `e`, the error of the fence statement, means the lease is lost.
    static bool says_lost(const Error& e) { return e.sqlstate() == "22012"; }
};

// Runs `body` on `session` in a transaction of its own that `fence` opens, if it has a
// statement, so that checkpoint writes outside the apply transactions are fenced like them;
// else runs it as is. Throws fence->lost (fatal) if the fence fails.
void run_fenced(util::TargetSession& session, const TransactionFence* fence,
                const std::function<void()>& body);

// Writes one target transaction at a time through a session: BEGIN, the segments of each
// flush, and at the end the checkpoint upsert and COMMIT, all pipelined, so that a flush costs
// one round trip and a group of small transactions one in all (docs/architecture.md §2.6).
//
// It knows whether BEGIN went out, whether the transaction is still open, and whether the
// outcome of a COMMIT is in doubt: the connection broke while it was in flight, or the server
// answered that it cannot tell (CockroachDB's 40003, "statement completion unknown"). Not
// thread-safe: one per apply worker.
class GroupWriter {
public:
    // Called when a statement of `segment` failed with a fatal error (the transaction is
    // aborted, not yet rolled back). It should throw a more precise error; if it returns, the
    // original error is thrown.
    using SegmentFailure = std::function<void(const Error&, const target::Segment&)>;

    // `fence`, if not null, follows every BEGIN; when it fails, fence->lost is thrown (fatal).
    GroupWriter(const target::Dialect& dialect, size_t max_message_bytes,
                util::TargetSession& session, SegmentFailure on_failure,
                const TransactionFence* fence = nullptr);

    // Opens a target transaction; BEGIN goes out with the first statements. A session whose
    // connection broke earlier is reconnected here, between transactions, where nothing can
    // be lost by it (prepared statements start afresh).
    void open();
    bool is_open() const { return open_; }
    // Sends the segments of a flush in one round trip (led by BEGIN if it has not gone out).
    // Returns the seconds it took. Throws rep::Error.
    double write(std::vector<target::Segment>& segments);
    // As write(), for rows an onWrite handler writes: a fatal error is thrown as the target
    // sent it, without SegmentFailure, and the transaction is left for the handler to roll
    // back to a savepoint, or to fail.
    double write_for_handler(std::vector<target::Segment>& segments);
    // Sends BEGIN now if it has not gone out (before a handler's own statements).
    void begin() { send_begin(); }
    // Sends the remaining segments, the checkpoint and COMMIT in one round trip, and closes
    // the transaction. Throws rep::Error; if the connection broke, in_doubt() says whether
    // the COMMIT was in flight.
    double commit(std::vector<target::Segment>& segments, const CheckpointWrite& checkpoint);
    // As commit(), but returns once the pipeline is sent, its answer unread: the next group's
    // pipeline may then go out behind this COMMIT on the same connection (chaining, see
    // docs/architecture.md §2.8). `guard`, if given, runs right after BEGIN and the fence and
    // must fail unless the group sent before committed. Throws rep::Error if it cannot be sent.
    void send_commit(std::vector<target::Segment>& segments, const CheckpointWrite& checkpoint,
                     const CheckpointWrite* guard);
    // Reads the answer of the oldest commit sent by send_commit(); returns the seconds since it
    // was sent. Throws rep::Error as commit() does (in_doubt() says whether the COMMIT was in
    // flight when the connection broke), but never calls SegmentFailure: the caller applies
    // the group again, unchained, to learn what failed.
    double finish_commit();
    // Commits sent by send_commit() and not yet answered.
    size_t unanswered() const { return sent_.size(); }
    // Reads and drops every answer still outstanding, errors included (after a failure).
    void drain();
    // Runs one statement now, outside the pipeline, inside the transaction (a TRUNCATE).
    void execute(const std::string& sql);
    // Ends the transaction without committing. Errors are ignored: the connection may be gone,
    // and then so is the transaction.
    void rollback();
    // Forgets the transaction without a statement: its COMMIT turned out to have landed on a
    // connection that broke, so none is open any more.
    void forget() {
        open_ = false;
        begun_ = false;
    }
    // Writes the rows of `segment` one at a time in a throwaway transaction and returns the
    // primary key of the first one the target rejects ("" if none is rejected alone).
    std::string find_failing_row(const target::Segment& segment);

    bool in_doubt() const { return in_doubt_; }
    // The error that left the COMMIT in doubt.
    const std::string& doubt() const { return doubt_; }
    void clear_doubt() { in_doubt_ = false; }
    // Makes the session ready to read the checkpoint of a COMMIT in doubt: reconnects if the
    // connection broke, else ends whatever is left of the transaction.
    void prepare_to_settle();
    util::TargetSession& session() { return session_; }
    void on_time_dropped(target::SegmentWriter::TimeDropped hook) {
        writer_.on_time_dropped(std::move(hook));
    }

private:
    struct Sent {  // a commit sent by send_commit()
        std::chrono::steady_clock::time_point at;
        size_t fence_call;
    };
    double send(std::vector<target::Segment>& segments, const CheckpointWrite* checkpoint,
                bool report_failure = true, const CheckpointWrite* guard = nullptr,
                bool defer = false);
    void send_begin();
    // After an error: with the connection gone, so are the answers still outstanding.
    void forget_sent_if_broken() {
        if (!session_.connected()) {
            sent_.clear();
        }
    }
    // Handles the error of a pipeline: marks the COMMIT in doubt, throws the fence's error.
    void note_failure(const Error& e, bool commit, size_t failed_call, size_t fence_call);

    util::TargetSession& session_;
    target::SegmentWriter writer_;
    SegmentFailure on_failure_;
    const TransactionFence* fence_;
    bool open_ = false;
    bool begun_ = false;  // BEGIN went out
    bool in_doubt_ = false;
    std::string doubt_;
    std::deque<Sent> sent_;
};

}  // namespace rep::sequencer
