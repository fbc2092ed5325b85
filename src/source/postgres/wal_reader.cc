#include "source/postgres/wal_reader.h"

#include "base/clock.h"
#include "base/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace rep::pg {
namespace {

// Silence on the replication stream: ask for an answer after kAskAfter, give up after
// kGiveUpAfter (a keepalive reply comes back at once from a live walsender).
constexpr std::chrono::seconds kAskAfter{10};
constexpr std::chrono::seconds kGiveUpAfter{30};

// Whether a transaction that committed at `commit_time_us` comes from a backlog (kBacklogAge):
// the connection then lets more messages gather per wake-up (ReplicationConn::set_backlogged).
bool from_backlog(int64_t commit_time_us) {
    return unix_now_us() - commit_time_us > kBacklogAge.count();
}

}  // namespace

WalReader::WalReader(WalReaderOptions options, source::ChangeSink& sink, Progress& progress,
                     metrics::Probe& probe)
    : options_(std::move(options)),
      sink_(sink),
      progress_(progress),
      probe_(probe),
      conn_(options_.conninfo) {}

void WalReader::run(Lsn start, const std::atomic<bool>& stop) {
    spool_ = std::make_unique<StreamSpool>(options_.spool_dir);
    decoder_.reset();
    in_txn_ = false;
    sink_.while_waiting([this] { maybe_send_status(false); });
    try {
        conn_.connect();
    } catch (const Error&) {
        probe_.dial(false);
        throw;
    }
    StartOptions so;
    so.slot = options_.slot;
    so.publication = options_.publication;
    so.start = start;
    // Protocol 2 (PostgreSQL 14+) lets the server stream large in-progress transactions
    // instead of spilling them to its own disk and sending them only at commit.
    bool v2 = options_.allow_streaming && conn_.server_version() >= 140000;
    so.proto_version = v2 ? 2 : 1;
    so.streaming = v2;
    try {
        conn_.start(so);
    } catch (const Error&) {
        probe_.dial(false);
        throw;
    }
    metrics::ConnectedStream connected(probe_);
    spdlog::info(
        "replicating from slot {} (publication {}) starting at LSN {}, pgoutput protocol {}{}",
        so.slot, so.publication, start.is_zero() ? "confirmed by the slot" : start.str(),
        so.proto_version, v2 ? " with streaming" : "");
    next_status_ = std::chrono::steady_clock::now() + options_.standby_timeout;
    auto last_heard = std::chrono::steady_clock::now();
    bool asked = false;
    while (!stop.load()) {
        maybe_send_status(false);
        auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
            next_status_ - std::chrono::steady_clock::now());
        auto wait = std::clamp(until, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
        auto msg = conn_.receive(wait);
        if (!msg) {
            // A walsender with nothing to send may stay silent as long as we keep reporting.
            // After a while ask it to answer: one that cannot is a dead or half-open
            // connection, which TCP alone may never report.
            auto quiet = std::chrono::steady_clock::now() - last_heard;
            if (quiet >= kAskAfter && !asked) {
                conn_.send_status(Lsn(progress_.confirmable()), /*reply_requested=*/true);
                asked = true;
            } else if (quiet >= kGiveUpAfter) {
                throw Error(
                    ErrorKind::kRetryable,
                    fmt::format("the source sent nothing for {} s, not even when asked "
                                "to answer; reconnecting",
                                std::chrono::duration_cast<std::chrono::seconds>(quiet).count()));
            }
            continue;
        }
        last_heard = std::chrono::steady_clock::now();
        asked = false;
        probe_.received((msg->kind == 'k' ? msg->wal_end : msg->wal_start).ordinal());
        if (msg->kind == 'k') {
            if (msg->reply_requested) {
                maybe_send_status(true);
            }
            // A keepalive outside any transaction means nothing before wal_end is still to
            // come: once the target has caught up to here, the slot may move to wal_end
            // even if no published table changed (so WAL is not retained forever).
            if (!in_txn_ && msg->wal_end > last_keepalive_) {
                last_keepalive_ = msg->wal_end;
                sink_.keepalive(msg->wal_end.position());
            }
            continue;
        }
        ++messages_;
        handle(msg->payload);
    }
    try {
        maybe_send_status(true);
        spdlog::info("reported flush position LSN {} to the source",
                     Lsn(progress_.confirmable()).str());
    } catch (const Error& e) {
        spdlog::warn("could not send the final status update: {}", e.what());
    }
    conn_.close();
}

void WalReader::maybe_send_status(bool force) {
    auto now = std::chrono::steady_clock::now();
    // Besides the regular update every --standbyTimeout, report a new confirmed position
    // soon after the target commits it (at most every 100 ms), so the slot releases WAL and
    // shows progress without waiting out the timeout.
    Lsn confirmed(progress_.confirmable());
    bool advanced =
        confirmed > last_reported_ && now >= last_sent_ + std::chrono::milliseconds(100);
    if (!force && !advanced && now < next_status_) {
        return;
    }
    conn_.send_status(confirmed);
    last_reported_ = confirmed;
    last_sent_ = now;
    next_status_ = now + options_.standby_timeout;
}

bool WalReader::forward_change(Message& m) {
    if (auto* c = std::get_if<ChangeMsg>(&m)) {
        probe_.mutation(c->op);
        if (c->op == 'U') {
            size_t unchanged = 0;
            for (const Datum& d : c->new_tuple) {
                unchanged += d.absent() ? 1 : 0;
            }
            if (unchanged > 0) {
                probe_.unchanged_toast(unchanged);
            }
        }
        ++txn_changes_;
        mutations_.clear();
        to_mutations(std::move(*c), mutations_);
        for (Mutation& mutation : mutations_) {
            sink_.change(std::move(mutation));
        }
        return true;
    }
    if (auto* t = std::get_if<TruncateMsg>(&m)) {
        ++txn_changes_;
        sink_.truncate(std::move(t->truncate));
        return true;
    }
    return false;
}

void WalReader::handle(std::string_view payload) {
    if (decoder_.in_stream() && !payload.empty() && payload[0] != 'E' && payload[0] != 'S') {
        // Inside a stream block: keep the raw message for replay at Stream Commit, but decode
        // it now too so Relation messages update the cache and bad input fails early.
        decoder_.decode(payload);
        spool_->append(stream_xid_, payload);
        return;
    }
    Message m = decoder_.decode(payload);
    if (forward_change(m)) {
        return;
    }
    if (auto* b = std::get_if<BeginMsg>(&m)) {
        in_txn_ = true;
        txn_changes_ = 0;
        // The commit record's LSN identifies the transaction; the ordinal alone names it.
        sink_.begin(b->xid, Position{b->final_lsn.ordinal(), {}}, b->commit_time_us);
    } else if (auto* cm = std::get_if<CommitMsg>(&m)) {
        probe_.received_commit(cm->commit_time_us, cm->end_lsn.ordinal());
        conn_.set_backlogged(from_backlog(cm->commit_time_us));
        if (txn_changes_ == 0) {
            probe_.empty_transaction();
        }
        sink_.commit(cm->end_lsn.position(), cm->commit_time_us);
        in_txn_ = false;
    } else if (auto* s = std::get_if<StreamStartMsg>(&m)) {
        stream_xid_ = s->xid;
    } else if (std::holds_alternative<StreamStopMsg>(m)) {
        spool_->flush();
    } else if (auto* sc = std::get_if<StreamCommitMsg>(&m)) {
        replay_stream(*sc);
    } else if (auto* sa = std::get_if<StreamAbortMsg>(&m)) {
        spool_->abort(sa->xid, sa->subxid);
        spdlog::debug("streamed transaction {} aborted (subtransaction {})", sa->xid, sa->subxid);
    } else if (auto* info = std::get_if<InfoMsg>(&m)) {
        spdlog::debug("source {}", info->text);
    } else if (auto* r = std::get_if<RelationMsg>(&m)) {
        spdlog::debug("source relation {}.{} (OID {}) has {} columns", r->relation->schema,
                      r->relation->name, r->relation->id, r->relation->columns.size());
    }
}

void WalReader::replay_stream(const StreamCommitMsg& commit) {
    probe_.received_commit(commit.commit_time_us, commit.end_lsn.ordinal());
    conn_.set_backlogged(from_backlog(commit.commit_time_us));
    sink_.begin(commit.xid, Position{commit.commit_lsn.ordinal(), {}}, commit.commit_time_us);
    // Replay with a copy of the decoder: the spooled Relation messages describe the layouts
    // as of this transaction and must not overwrite newer ones in the live cache.
    PgOutputDecoder replay = decoder_;
    spool_->replay(commit.xid, [&](std::string_view message) {
        Message m = replay.decode_streamed(message);
        forward_change(m);
    });
    sink_.commit(commit.end_lsn.position(), commit.commit_time_us);
}

}  // namespace rep::pg
