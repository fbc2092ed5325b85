#pragma once

#include "core/mutation.h"
#include "source/postgres/lsn.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace rep::pg {

// Decoded pgoutput messages (protocol versions 1 and 2). Layouts are in PostgreSQL's
// "Logical Replication Message Formats" chapter; all integers are big-endian.
struct BeginMsg {
    Lsn final_lsn;           // start of the transaction's commit record
    int64_t commit_time_us;  // microseconds since the Unix epoch
    uint32_t xid;
};
struct CommitMsg {
    Lsn commit_lsn;
    Lsn end_lsn;  // end of the commit record: resume after this
    int64_t commit_time_us;
};
struct RelationMsg {
    std::shared_ptr<const Relation> relation;
};
// An Insert ('I'), Update ('U') or Delete ('D').
struct ChangeMsg {
    char op;
    uint32_t xid;  // only inside a stream; 0 otherwise
    std::shared_ptr<const Relation> relation;
    char old_kind = 0;  // 'K' (key columns only), 'O' (whole old row) or 0 (no old tuple)
    std::vector<Datum> old_tuple;
    std::vector<Datum> new_tuple;
};
struct TruncateMsg {
    uint32_t xid;
    Truncate truncate;
};
struct StreamStartMsg {
    uint32_t xid;
    bool first_segment;
};
struct StreamStopMsg {};
struct StreamCommitMsg {
    uint32_t xid;
    Lsn commit_lsn;
    Lsn end_lsn;
    int64_t commit_time_us;
};
struct StreamAbortMsg {
    uint32_t xid;     // top-level transaction
    uint32_t subxid;  // == xid when the whole transaction aborted
};
// Origin ('O'), Type ('Y') and logical decoding Message ('M'): nothing to apply.
struct InfoMsg {
    char type;
    uint32_t xid;  // only inside a stream
    std::string text;
};

using Message =
    std::variant<BeginMsg, CommitMsg, RelationMsg, ChangeMsg, TruncateMsg, StreamStartMsg,
                 StreamStopMsg, StreamCommitMsg, StreamAbortMsg, InfoMsg>;

// Turns pgoutput payloads (the part of an XLogData message after its 25-byte header) into
// Message values. Pure: no I/O, no clock. Not thread-safe; one decoder per replication stream.
//
// State: the relation cache (relation OID -> layout, from 'R' messages, which the server
// re-sends after any schema change) and whether a stream block ('S'..'E') is open, because
// inside one every Relation, Type, Insert, Update, Delete and Truncate carries an extra xid.
class PgOutputDecoder {
public:
    // Throws rep::Error (fatal) on a malformed message or an unknown relation OID.
    Message decode(std::string_view payload);

    // Decodes a message captured inside a stream block (used when replaying a spooled
    // streamed transaction, where the block structure is gone).
    Message decode_streamed(std::string_view payload) { return decode_impl(payload, true); }

    bool in_stream() const { return in_stream_; }
    // Forgets the relation cache and the stream state, as after reconnecting: the server
    // re-sends every Relation on a new connection.
    void reset();

private:
    Message decode_impl(std::string_view payload, bool streamed);

    std::unordered_map<uint32_t, std::shared_ptr<const Relation>> relations_;
    bool in_stream_ = false;
    uint64_t next_version_ = 1;
};

// Reduces a decoded Insert/Update/Delete to target mutations (appended to `out`):
//  - Insert -> upsert of the new row.
//  - Update -> upsert of the new row, carrying the old tuple when the server sent one (it sends
//    the old key only when the key changed, or the whole old row under REPLICA IDENTITY FULL).
//    The apply side, which knows the target's primary key, turns a key change into a delete of
//    the old row before the upsert. Unchanged TOASTed columns ('u') stay kAbsent.
//  - Delete -> delete by the old key tuple.
void to_mutations(ChangeMsg&& change, std::vector<Mutation>& out);

}  // namespace rep::pg
