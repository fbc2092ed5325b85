#pragma once

#include "sequencer/apply_context.h"
#include "sequencer/checkpointer.h"

namespace rep::sequencer {

// Commits in source order (one apply connection, or several with ordered commits): the plain
// memo row holds the end of the last committed group (MOLT Replicator's checkpoint,
// docs/staging.md §3). When the memo is in the target it is upserted in the group's own
// transaction (exactly once, §4.1); otherwise it is written to staging after each commit (at
// least once, §4.2). Groups commit one after another, each after the one before has been
// reported committed, so the row only moves forward.
class PlainCheckpointer final : public Checkpointer {
public:
    explicit PlainCheckpointer(const ApplyContext& context) : context_(context) {}

    std::vector<std::pair<std::string, std::string>> rows(size_t worker,
                                                          const GroupSpan& span) override;
    void committed(size_t worker, const GroupSpan& span) override;
    bool landed(util::TargetSession& session, size_t worker, const GroupSpan& span) override;
    void tick(util::TargetSession& session, const Position& prefix, bool idle, bool final) override;
    bool chains() const override { return context_.memo_in_target(); }

private:
    const ApplyContext& context_;
};

}  // namespace rep::sequencer
