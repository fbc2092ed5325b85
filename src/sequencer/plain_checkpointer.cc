#include "sequencer/plain_checkpointer.h"

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
    if (write_plain_row(context_, session, prefix)) {
        context_.probe.set_checkpoint(prefix.ordinal);
    }
}

bool PlainCheckpointer::landed(util::TargetSession& session, size_t, const GroupSpan& span) {
    if (!context_.memo_in_target()) {
        return false;  // nothing was written with the group (staging.md §4.2)
    }
    return context_.memo.read(session, context_.memo_key) == span.end.text;
}

}  // namespace rep::sequencer
