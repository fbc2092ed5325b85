#include "sequencer/grouper.h"

#include "sequencer/apply_context.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace rep::sequencer {

using Kind = ChangeItem::Kind;

Grouper::Grouper(Limits limits, const PositionCodec& codec, const staging::AppliedSet* applied,
                 KeyFn keys)
    : limits_(limits), codec_(codec), applied_(applied), keys_(std::move(keys)) {}

void Grouper::add(ChangeItem item, std::chrono::steady_clock::time_point now,
                  std::vector<Step>& steps) {
    switch (item.kind) {
        case Kind::kBegin:
            in_txn_ = true;
            txn_ = Group{};
            txn_.txn_ids = {item.position.ordinal, item.position.ordinal};
            skipping_ = applied_ != nullptr && applied_->contains(item.position.ordinal);
            if (skipping_) {
                spdlog::debug("skipping {}: already applied",
                              codec_.describe_transaction(item.xid, item.position));
                return;
            }
            txn_.items.push_back(std::move(item));
            return;
        case Kind::kChanges:
        case Kind::kTruncate:
            if (skipping_) {
                return;
            }
            if (streaming_) {
                steps.push_back({Step::Kind::kStreamItem, {}, std::move(item), {}});
                return;
            }
            if (item.kind == Kind::kTruncate) {
                txn_.barrier = true;
            } else {
                txn_.rows += item.mutations.size();
                txn_.bytes += item.bytes;
                if (!txn_.barrier && !keys_(item, txn_.keys)) {
                    txn_.barrier = true;  // its worker reports why, in context
                }
            }
            txn_.items.push_back(std::move(item));
            if (txn_.rows > limits_.flush_size) {
                // Too large to hold: everything before it goes first, then it is streamed to
                // one worker as it arrives, alone.
                dispatch_group(steps);
                txn_.barrier = true;
                txn_.started = now;
                steps.push_back({Step::Kind::kStreamStart, std::move(txn_), {}, {}});
                txn_ = Group{};
                streaming_ = true;
            }
            return;
        case Kind::kCommit:
            close_transaction(std::move(item), now, steps);
            return;
        case Kind::kKeepalive:
            if (in_txn_) {
                return;  // sources send keepalives only between transactions
            }
            dispatch_group(steps);
            steps.push_back({Step::Kind::kPass, {}, {}, std::move(item.position)});
            return;
    }
}

void Grouper::close_transaction(ChangeItem commit, std::chrono::steady_clock::time_point now,
                                std::vector<Step>& steps) {
    in_txn_ = false;
    if (streaming_) {
        streaming_ = false;
        Position end = commit.position;
        steps.push_back({Step::Kind::kStreamEnd, {}, std::move(commit), std::move(end)});
        return;
    }
    bool nothing = std::exchange(skipping_, false) || txn_.items.size() <= 1;
    if (nothing) {
        // Already applied, empty or fully filtered: only the position moves, in order.
        if (group_.items.empty()) {
            steps.push_back({Step::Kind::kPass, {}, {}, std::move(commit.position)});
        } else {
            group_.end = std::move(commit.position);
        }
        return;
    }
    txn_.end = commit.position;
    txn_.items.push_back(std::move(commit));
    txn_.txns = 1;
    if (txn_.barrier) {
        dispatch_group(steps);
        txn_.started = now;
        steps.push_back({Step::Kind::kDispatch, std::move(txn_), {}, {}});
        txn_ = Group{};
        return;
    }
    if (group_.items.empty()) {
        group_.txn_ids.lo = txn_.txn_ids.lo;
        group_.started = now;
    }
    group_.txn_ids.hi = txn_.txn_ids.hi;
    group_.end = std::move(txn_.end);
    group_.rows += txn_.rows;
    group_.bytes += txn_.bytes;
    ++group_.txns;
    group_.keys.insert(group_.keys.end(), txn_.keys.begin(), txn_.keys.end());
    for (ChangeItem& it : txn_.items) {
        group_.items.push_back(std::move(it));
    }
    txn_ = Group{};
}

void Grouper::dispatch_group(std::vector<Step>& steps) {
    if (!group_.items.empty()) {
        steps.push_back({Step::Kind::kDispatch, std::move(group_), {}, {}});
        group_ = Group{};
    }
}

bool Grouper::due(std::chrono::steady_clock::time_point now, size_t growth) const {
    return !group_.items.empty() &&
           (group_.rows >= growth * limits_.flush_size || group_.txns >= limits_.timestamp_limit ||
            now - group_.started >= limits_.flush_period);
}

std::optional<Group> Grouper::take() {
    if (in_txn_ || group_.items.empty()) {
        return std::nullopt;
    }
    std::optional<Group> g(std::move(group_));
    group_ = Group{};
    return g;
}

}  // namespace rep::sequencer
