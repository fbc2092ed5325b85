#pragma once

#include "source/oracle/checkpoint.h"
#include "util/target_session.h"

#include <cstdint>
#include <string>
#include <vector>

namespace rep::oracle {

// One write to `_oracle_checkpoint` (reference §3.2), queued in order by the reader.
struct CheckpointOp {
    enum class Kind : uint8_t {
        kRegister,  // first DML of xid on the schema: (xid, start_scn), not committed; never
                    // overwrites a row (a mark may already be there)
        kMark,      // xid is applied (or needs nothing): committed at commit_scn
        kDelete,    // xid rolled back
        kFrontier,  // the next window starts at start_scn
    };
    Kind kind = Kind::kRegister;
    std::string xid;
    uint64_t start_scn = 0;
    uint64_t commit_scn = 0;
};

// The `_oracle_checkpoint` table in the staging schema, MOLT Replicator's layout:
//   xid STRING PRIMARY KEY, startscn INT8 NOT NULL, commitscn INT8 NULL,
//   committed BOOL NOT NULL DEFAULT false, thread INT4 NULL,
//   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), INDEX (committed, startscn)
// on PostgreSQL and CockroachDB alike.
class CheckpointTable {
public:
    // `schema_sql`: the quoted, qualified staging schema (beside the memo table).
    explicit CheckpointTable(const std::string& schema_sql);

    // Creates the table and its index when missing.
    void ensure(util::TargetSession& session);
    std::vector<CheckpointRow> read(util::TargetSession& session);
    // Writes a batch of operations as one transaction, in effect in order: registrations,
    // then marks, deletes and the last frontier (a batch never holds a registration after the
    // mark or delete of the same transaction). Throws rep::Error; the batch is then not
    // written at all.
    void write(util::TargetSession& session, const std::vector<CheckpointOp>& batch);
    // Garbage collection: deletes the committed rows below the restart SCN (they are never
    // mined again). Returns how many went.
    size_t collect(util::TargetSession& session);

    const std::string& table_sql() const { return table_; }

private:
    std::string table_;
};

}  // namespace rep::oracle
