#pragma once

#include "base/duration.h"
#include "core/progress.h"
#include "source/change_sink.h"
#include "source/postgres/pgoutput_decoder.h"
#include "source/postgres/replication_conn.h"
#include "source/postgres/stream_spool.h"

#include "metrics/probe.h"

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

namespace rep::pg {

struct WalReaderOptions {
    std::string conninfo;
    std::string slot;
    std::string publication;
    Duration standby_timeout = std::chrono::seconds(5);
    std::filesystem::path spool_dir;
    bool allow_streaming = true;  // protocol 2 with streaming where the server has it (PG14+)
};

// The source side of `replicator pglogical`: reads the slot through pgoutput and hands the
// transactions to the sink in commit order.
//
// Transactions the server sends whole (protocol 1, or small ones under protocol 2) are
// forwarded as they arrive. Transactions the server streams while still in progress go to
// the on-disk StreamSpool and are forwarded at Stream Commit, or dropped at Stream Abort.
// Either way memory stays bounded by the queue behind the sink.
//
// Positions are LSNs (lsn_codec.h): a transaction is identified by the LSN of its commit
// record (BEGIN's final_lsn) and ends at the END of that record, where the next run resumes.
//
// Standby status updates report Progress (what the target has committed) every
// --standbyTimeout, at once when the server asks, and also while the sink waits for room,
// so a long target apply never makes the server drop us for silence.
class WalReader {
public:
    WalReader(WalReaderOptions options, source::ChangeSink& sink, Progress& progress,
              metrics::Probe& probe);

    // Streams from `start` (0/0: the slot's confirmed position) until `stop` is set; sends a
    // final status update before returning. Throws rep::Error.
    void run(Lsn start, const std::atomic<bool>& stop);

    uint64_t messages() const { return messages_; }

private:
    void handle(std::string_view payload);
    // Row changes and truncates, live or replayed from the spool; false for other messages.
    bool forward_change(Message& m);
    void maybe_send_status(bool force);
    void replay_stream(const StreamCommitMsg& commit);

    WalReaderOptions options_;
    source::ChangeSink& sink_;
    Progress& progress_;
    metrics::Probe& probe_;
    ReplicationConn conn_;
    PgOutputDecoder decoder_;
    std::unique_ptr<StreamSpool> spool_;

    bool in_txn_ = false;              // between Begin and Commit of a transaction sent whole
    size_t txn_changes_ = 0;           // row changes and truncates in the current transaction
    uint32_t stream_xid_ = 0;          // top-level xid of the open stream block
    std::vector<Mutation> mutations_;  // reused for each decoded row change
    Lsn last_keepalive_;
    std::chrono::steady_clock::time_point next_status_;
    std::chrono::steady_clock::time_point last_sent_;
    Lsn last_reported_;
    uint64_t messages_ = 0;
};

}  // namespace rep::pg
