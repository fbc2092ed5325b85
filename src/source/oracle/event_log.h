#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace rep::oracle {

// A DML event of a buffered transaction: its SQL_REDO (parsed when the transaction commits)
// or an undo marker, which cancels the latest live event of the same ROW_ID (LIFO per row:
// a partial rollback's compensation rows are never applied themselves).
struct TxnEvent {
    uint64_t scn = 0;
    std::string row_id;
    std::string table;
    std::string sql_redo;
    bool undo = false;

    // What the event costs in memory, roughly: the strings and the struct.
    size_t bytes() const {
        return sizeof(TxnEvent) + row_id.size() + table.size() + sql_redo.size();
    }
};

// The events of one open transaction, in order. The newest are in memory; spill() moves
// them to a file, so a transaction of a million rows costs a file, not a million rows of
// memory. The file is created with mkstemp in the spill directory and unlinked at once: it
// lives as long as the open descriptor, and a killed process leaves nothing behind (its
// transactions are mined again from the checkpoint anyway).
//
// The file is a sequence of chunks of at most kChunkBytes of encoded events each; a chunk is
// the unit read back, so reading a spilled transaction costs one chunk of memory at a time.
// Encoding, native byte order (the file never outlives the process): scn u64, undo u8, then
// row_id, table and sql_redo, each a u32 length and the bytes. Move-only.
class EventLog {
public:
    static constexpr size_t kChunkBytes = 1 << 20;

    EventLog() = default;
    EventLog(EventLog&& other) noexcept;
    EventLog& operator=(EventLog&& other) noexcept;
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;
    ~EventLog();

    size_t size() const { return spilled_ + tail_.size(); }
    size_t memory_bytes() const { return tail_bytes_; }
    bool spilled() const { return fd_ >= 0; }

    void push(TxnEvent event);
    // Moves the in-memory events to the file, creating it in `dir` on first use. Throws
    // rep::Error (retryable) when the file cannot be created or written: a full disk.
    void spill(const std::filesystem::path& dir);
    // Drops the events from index `n` on (a failed window's).
    void truncate(size_t n);

    // Calls fn(event, index) on every event, first to last / last to first. Throws rep::Error
    // (retryable) if the file cannot be read.
    void for_each(const std::function<void(const TxnEvent&, size_t)>& fn) const;
    void for_each_reverse(const std::function<void(const TxnEvent&, size_t)>& fn) const;

private:
    struct Chunk {
        uint64_t offset = 0;
        uint64_t bytes = 0;
        size_t first = 0;  // index of its first event
        size_t count = 0;
    };
    std::vector<TxnEvent> read_chunk(const Chunk& c) const;
    void write_chunk(const std::string& data, size_t count);
    void close();

    std::vector<TxnEvent> tail_;
    size_t tail_bytes_ = 0;
    std::vector<Chunk> chunks_;
    size_t spilled_ = 0;  // events in the file
    uint64_t file_bytes_ = 0;
    int fd_ = -1;
    std::filesystem::path dir_;  // for error messages
};

// A committed transaction's events with the undone ones taken out: what the applier reads.
class LiveEvents {
public:
    LiveEvents() = default;
    // Resolves the undo markers of `log`: each cancels the latest live event of its ROW_ID
    // before it. Computed last to first, keeping a count of pending undo markers per ROW_ID,
    // so the memory it needs grows with the undo rows, not with the transaction.
    explicit LiveEvents(EventLog log);

    void for_each(const std::function<void(const TxnEvent&)>& fn) const;
    size_t size() const { return live_; }
    bool spilled() const { return log_.spilled(); }
    // The events as a vector (tests, and small transactions).
    std::vector<TxnEvent> to_vector() const;
    void clear();

private:
    EventLog log_;
    std::vector<bool> cancelled_;  // by event index; markers count as cancelled
    size_t live_ = 0;
};

}  // namespace rep::oracle
