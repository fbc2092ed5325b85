#pragma once

#include "sequencer/apply_context.h"
#include "sequencer/checkpointer.h"
#include "sequencer/schedule.h"

#include <mutex>

namespace rep::sequencer {

// Several apply connections (docs/staging.md §4.3): groups commit out of source order, so
// each worker upserts, with every group, a record of its own ("<key>#w<N>": the prefix it
// knew and the ranges of transactions it committed beyond it), which the Schedule computes.
// Worker 0 also keeps the plain row close to the prefix in the same statement. When the memo
// is in another database no records are written: the plain row is raised to the prefix
// about once a second and at the end of the run (at least once, §4.2).
class RecordCheckpointer final : public Checkpointer {
public:
    // REQUIRES: context.codec has stable ordinals.
    RecordCheckpointer(const ApplyContext& context, const Schedule& schedule, Position written,
                       size_t workers);

    std::vector<std::pair<std::string, std::string>> rows(size_t worker,
                                                          const GroupSpan& span) override;
    void committed(size_t worker, const GroupSpan& span) override;
    bool landed(util::TargetSession& session, size_t worker, const GroupSpan& span) override;
    void tick(util::TargetSession& session, const Position& prefix, bool idle, bool final) override;

private:
    const ApplyContext& context_;
    const Schedule& schedule_;
    std::mutex mu_;
    Position written_;  // last value the dispatcher wrote to the plain row
    // The prefix each worker's record claimed in the transaction it is committing (each slot
    // is used by its worker's thread only).
    std::vector<Ordinal> claimed_;
};

}  // namespace rep::sequencer
