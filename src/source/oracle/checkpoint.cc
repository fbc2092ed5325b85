#include "source/oracle/checkpoint.h"

#include <algorithm>

namespace rep::oracle {

std::optional<Resume> resume_from(const std::vector<CheckpointRow>& rows) {
    std::optional<uint64_t> restart;
    for (const CheckpointRow& r : rows) {
        if (!r.committed) {
            restart = std::min(restart.value_or(r.start_scn), r.start_scn);
        }
    }
    if (!restart) {
        return std::nullopt;
    }
    Resume out{*restart, {}};
    for (const CheckpointRow& r : rows) {
        if (r.committed && r.xid != kFrontierXid) {
            out.skip.insert(r.xid);
        }
    }
    return out;
}

std::vector<std::string> collectable(const std::vector<CheckpointRow>& rows) {
    std::optional<Resume> resume = resume_from(rows);
    std::vector<std::string> out;
    if (!resume) {
        return out;
    }
    for (const CheckpointRow& r : rows) {
        if (r.committed && r.xid != kFrontierXid && r.commit_scn &&
            *r.commit_scn < resume->restart_scn) {
            out.push_back(r.xid);
        }
    }
    return out;
}

std::optional<uint64_t> window_end(uint64_t lo, int64_t window_size, uint64_t current_scn,
                                   const std::vector<uint64_t>& open_threads_last_redo) {
    uint64_t cap = current_scn;
    for (uint64_t last : open_threads_last_redo) {
        cap = std::min(cap, last == 0 ? 0 : last - 1);
    }
    if (cap < lo) {
        return std::nullopt;
    }
    if (window_size <= 0) {
        return cap;
    }
    return std::min(cap, lo + static_cast<uint64_t>(window_size) - 1);
}

}  // namespace rep::oracle
