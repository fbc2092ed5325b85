#include "sequencer/plain_checkpointer.h"

#include <spdlog/spdlog.h>

namespace rep::sequencer {

std::vector<std::pair<std::string, std::string>> PlainCheckpointer::rows(size_t,
                                                                         const GroupSpan& span) {
    if (!context_.memo_in_target()) {
        return {};
    }
    return {{context_.memo_key, span.end.text}};
}

void PlainCheckpointer::committed(size_t, const GroupSpan& span) {
    if (!context_.memo_in_target()) {
        // At-least-once: the data is committed; if this write fails the pipeline restarts
        // from the older memo position and re-applies idempotently.
        util::TargetSession& staging = *context_.staging;
        if (!staging.connected()) {
            staging.connect();
        }
        context_.memo.write(staging, context_.memo_key, span.end.text);
    }
    context_.progress.recorded(span.end.ordinal);
    context_.probe.set_checkpoint(span.end.ordinal);
}

void PlainCheckpointer::tick(util::TargetSession& session, const Position& prefix, bool idle,
                             bool) {
    if (!idle || prefix.ordinal <= context_.progress.recorded() || prefix.text.empty()) {
        return;
    }
    try {
        util::TargetSession& conn = context_.memo_in_target() ? session : *context_.staging;
        if (!conn.connected()) {
            conn.connect();
        }
        context_.memo.write(conn, context_.memo_key, prefix.text);
        context_.progress.recorded(prefix.ordinal);
        context_.probe.set_checkpoint(prefix.ordinal);
    } catch (const Error& e) {
        spdlog::warn("could not record the checkpoint {} in the memo table: {}",
                     context_.codec.describe(prefix), e.what());
    }
}

bool PlainCheckpointer::landed(util::TargetSession& session, size_t, const GroupSpan& span) {
    if (!context_.memo_in_target()) {
        return false;  // nothing was written with the group (staging.md §4.2)
    }
    return context_.memo.read(session, context_.memo_key) == span.end.text;
}

}  // namespace rep::sequencer
