#include "sequencer/checkpointer.h"

#include <spdlog/spdlog.h>

namespace rep::sequencer {

bool write_plain_row(const ApplyContext& context, util::TargetSession& session,
                     const Position& prefix) {
    try {
        util::TargetSession& conn = context.memo_in_target() ? session : *context.staging;
        if (!conn.connected()) {
            conn.connect();
        }
        // Fenced like the apply transactions: a process that lost the stream's lease must not
        // move the new holder's checkpoint back.
        run_fenced(conn, context.memo_in_target() ? context.fence : nullptr,
                   [&] { context.memo.write(conn, context.memo_key, prefix.text); });
        context.progress.recorded(prefix.ordinal);
        return true;
    } catch (const Error& e) {
        if (context.fence != nullptr && e.what() == context.fence->lost) {
            throw;  // the lease is lost: stop, do not carry on with a warning
        }
        spdlog::warn("could not write the checkpoint {} to the memo table: {}",
                     context.codec.describe(prefix), e.what());
        return false;
    }
}

}  // namespace rep::sequencer
