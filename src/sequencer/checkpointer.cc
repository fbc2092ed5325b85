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
        context.memo.write(conn, context.memo_key, prefix.text);
        context.progress.recorded(prefix.ordinal);
        return true;
    } catch (const Error& e) {
        spdlog::warn("could not write the checkpoint {} to the memo table: {}",
                     context.codec.describe(prefix), e.what());
        return false;
    }
}

}  // namespace rep::sequencer
