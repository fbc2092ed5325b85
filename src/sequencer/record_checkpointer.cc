#include "sequencer/record_checkpointer.h"

#include "staging/parallel_checkpoint.h"

#include <algorithm>

namespace rep::sequencer {

RecordCheckpointer::RecordCheckpointer(const ApplyContext& context, const Schedule& schedule,
                                       Position written, size_t workers)
    : context_(context), schedule_(schedule), written_(std::move(written)), claimed_(workers) {}

std::vector<std::pair<std::string, std::string>> RecordCheckpointer::rows(size_t worker,
                                                                          const GroupSpan& span) {
    if (!context_.memo_in_target()) {
        return {};  // at least once: the dispatcher writes the plain row to staging
    }
    staging::WorkerRecord record = schedule_.record_for(worker, span.txns);
    claimed_[worker] = record.prefix;
    const std::string& key = context_.memo_key;
    std::vector<std::pair<std::string, std::string>> rows = {
        {staging::worker_record_key(key, worker), staging::encode_record(record, context_.codec)}};
    if (worker == 0 && !record.prefix.is_zero()) {
        // Keeps the plain (MOLT-compatible) row close to the prefix. Only worker 0 writes it,
        // so commits of different workers never wait on each other's row lock.
        rows.emplace_back(key, context_.codec.at(record.prefix).text);
    }
    return rows;
}

void RecordCheckpointer::committed(size_t worker, const GroupSpan&) {
    // Recovery takes the largest prefix any record claims (staging.md §4.3).
    context_.progress.recorded(claimed_[worker]);
    context_.probe.set_checkpoint(context_.progress.recorded());
}

bool RecordCheckpointer::landed(util::TargetSession& session, size_t worker,
                                const GroupSpan& span) {
    if (!context_.memo_in_target()) {
        return false;
    }
    std::string key = staging::worker_record_key(context_.memo_key, worker);
    auto text = context_.memo.read(session, key);
    if (!text) {
        return false;
    }
    staging::WorkerRecord record = staging::decode_record(*text, key, context_.codec);
    return std::find(record.ranges.begin(), record.ranges.end(), span.txns) != record.ranges.end();
}

void RecordCheckpointer::tick(util::TargetSession& session, const Position& prefix, bool idle,
                              bool final) {
    // Worker 0 keeps the plain row near the prefix while groups apply; positions passed after
    // the last of them are written when the workers are idle.
    if (context_.memo_in_target() && !final &&
        !(idle && prefix.ordinal > context_.progress.recorded())) {
        return;
    }
    std::lock_guard lock(mu_);
    if (prefix.ordinal.is_zero() || prefix.ordinal <= written_.ordinal) {
        return;
    }
    // On failure the records (or, with separate staging, the next write) still hold it.
    if (write_plain_row(context_, session, prefix)) {
        written_ = prefix;
    }
}

}  // namespace rep::sequencer
