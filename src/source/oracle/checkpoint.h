#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rep::oracle {

// A row of `_oracle_checkpoint` in the staging schema (reference §3.2): one per source
// transaction that touched the schema, plus the reserved frontier row, whose start SCN is the
// `lo` of the next window.
struct CheckpointRow {
    std::string xid;
    uint64_t start_scn = 0;
    std::optional<uint64_t> commit_scn;
    bool committed = false;
};

inline constexpr const char* kFrontierXid = "frontier";

// Where mining resumes, and what it skips (§3.3): the restart SCN R is the smallest start SCN
// of the rows not committed (MOLT's rule; the frontier row keeps it defined), and the
// committed rows are the transactions not to apply again. R never decreases over a run: new
// registrations and frontiers are at or above the window being mined, which is at or above
// R, and marks and deletes only take rows away from the minimum.
struct Resume {
    uint64_t restart_scn = 0;
    std::set<std::string> skip;
};
// nullopt for a table with no row that is not committed (no frontier yet: a first run).
std::optional<Resume> resume_from(const std::vector<CheckpointRow>& rows);

// The committed rows garbage collection may delete: those committed below R (their redo is
// never mined again, so they are not needed to skip anything). Never the frontier.
std::vector<std::string> collectable(const std::vector<CheckpointRow>& rows);

// First run from `--scn` S (§3.5): a transaction that committed below S is in Fetch's
// snapshot already; one at or above S is applied whole, its DML below S included.
inline bool first_run_applies(uint64_t commit_scn, uint64_t snapshot_scn) {
    return commit_scn >= snapshot_scn;
}

// The end of the next window from `lo` (§3.6): min(lo + W - 1, cap), cap being the current SCN
// and one below the lowest LAST_REDO_SCN of the open redo threads (redo past it may still be
// unflushed on one of them); W <= 0 leaves the window uncapped. nullopt when cap < lo: nothing
// new is safe to mine yet (an idle database: the sentinel is due).
std::optional<uint64_t> window_end(uint64_t lo, int64_t window_size, uint64_t current_scn,
                                   const std::vector<uint64_t>& open_threads_last_redo);

}  // namespace rep::oracle
