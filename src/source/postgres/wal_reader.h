#pragma once

#include "base/duration.h"
#include "core/change_item.h"
#include "core/progress.h"
#include "source/postgres/pgoutput_decoder.h"
#include "source/postgres/replication_conn.h"
#include "source/postgres/stream_spool.h"
#include "util/bounded_queue.h"

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
    size_t chunk_rows = 1000;  // rows per kChanges item (--flushSize)
    std::filesystem::path spool_dir;
    bool allow_streaming = true;  // protocol 2 with streaming where the server has it (PG14+)
};

// The source side of the pipeline: reads the slot through pgoutput, turns it into ChangeItems
// in commit order and pushes them into the bounded queue.
//
// Transactions the server sends whole (protocol 1, or small ones under protocol 2) are
// forwarded as they arrive, in --flushSize chunks. Transactions the server streams while
// still in progress go to the on-disk StreamSpool and are forwarded at Stream Commit, or
// dropped at Stream Abort. Either way memory stays bounded by the queue.
//
// Standby status updates report Progress::confirmed (what the target has committed) every
// --standbyTimeout, at once when the server asks, and also while waiting for room in the
// queue, so a long target apply never makes the server drop us for silence.
class WalReader {
public:
    WalReader(WalReaderOptions options, BoundedQueue<ChangeItem>& queue, Progress& progress,
              metrics::Probe& probe);

    // Streams from `start` (0/0: the slot's confirmed position) until `stop` is set; sends a
    // final status update before returning. Throws rep::Error.
    void run(Lsn start, const std::atomic<bool>& stop);

    uint64_t messages() const { return messages_; }

private:
    void handle(std::string_view payload, const std::atomic<bool>& stop);
    void forward(ChangeItem item, const std::atomic<bool>& stop);
    void flush_chunk(const std::atomic<bool>& stop);
    // Row changes and truncates, live or replayed from the spool; false for other messages.
    bool forward_change(Message& m, const std::atomic<bool>& stop);
    void maybe_send_status(bool force);
    void replay_stream(const StreamCommitMsg& commit, const std::atomic<bool>& stop);

    WalReaderOptions options_;
    BoundedQueue<ChangeItem>& queue_;
    Progress& progress_;
    metrics::Probe& probe_;
    ReplicationConn conn_;
    PgOutputDecoder decoder_;
    std::unique_ptr<StreamSpool> spool_;

    bool in_txn_ = false;      // between Begin and Commit of a transaction sent whole
    size_t txn_changes_ = 0;   // row changes and truncates in the current transaction
    uint32_t stream_xid_ = 0;  // top-level xid of the open stream block
    ChangeItem chunk_;         // mutations not yet forwarded
    Lsn last_keepalive_;
    std::chrono::steady_clock::time_point next_status_;
    std::chrono::steady_clock::time_point last_sent_;
    Lsn last_reported_;
    uint64_t messages_ = 0;
};

}  // namespace rep::pg
