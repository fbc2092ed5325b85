#pragma once

#include "base/duration.h"
#include "core/position.h"
#include "core/progress.h"
#include "sequencer/group_writer.h"
#include "sequencer/table_hooks.h"
#include "sequencer/worker_limit.h"
#include "staging/memo.h"
#include "target/segment_writer.h"
#include "target/table_catalog.h"
#include "util/retry.h"
#include "util/target_session.h"

#include "metrics/probe.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace rep::sequencer {

// --truncateMode: what a source TRUNCATE does on the target.
enum class TruncateMode { kApply, kIgnore, kError };

// How far past --flushSize a group may grow while groups are in flight and the source has
// more waiting (dispatcher.cc), and so the most rows a worker's builder holds before it
// writes them. Each commit then carries up to this many times --flushSize rows when commits
// are what limits the rate (a distant target), never more than --timestampLimit source
// transactions; the Schedule's window bounds the rows in flight (dispatcher.cc).
constexpr size_t kGroupGrowth = 16;
// A group of up to this many times --flushSize rows is kept for in-place retries whatever
// the width of its rows; a larger one only while its values stay within the retry log's
// byte bound (retrying_applier.h).
constexpr size_t kKeptGroupGrowth = 4;
// Largest group kept in memory for an in-place retry, in row changes and, past
// kKeptGroupGrowth x --flushSize rows, in bytes of values (50 000 rows of 3 kB values would
// otherwise hold 150 MB beside the bounded queues). Larger groups are replayed from the
// source instead, so a huge transaction never has to fit in memory; groups stop growing
// before they would pass these (dispatcher.cc), so only a large source transaction does.
constexpr size_t kRetryKeptRows = 50000;
constexpr size_t kRetryKeptBytes = 32U << 20;
// Bytes of values beside the row counts that bound memory (docs/architecture.md §2.8,
// "Window"): the queue from the source (--targetApplyQueueSize rows) and the groups
// dispatched beyond the committed prefix. Rows of a few hundred bytes never reach them;
// wide rows (documents, blobs) would otherwise make a few thousand rows hold gigabytes.
constexpr size_t kApplyQueueBytes = size_t{128} << 20;
constexpr size_t kWindowBytes = size_t{256} << 20;

// The apply flags (docs/pglogical.md §4).
struct ApplyOptions {
    size_t flush_size = 1000;                         // --flushSize
    Duration flush_period = std::chrono::seconds(1);  // --flushPeriod
    size_t timestamp_limit = 1000;                    // --timestampLimit
    // --targetMaxMessageBytes: the most parameter text one statement carries.
    size_t max_message_bytes = target::SegmentWriter::kDefaultMaxMessage;
    TruncateMode truncate_mode = TruncateMode::kApply;
    util::RetryPolicy retry;
    bool collapse = true;  // --collapseMutations
    // Apply connections (--parallelism).
    size_t workers = 1;
    // Commits in source order whatever the number of workers (not --unorderedCommits); only
    // sources whose positions can be checkpointed out of order may turn it off
    // (PositionCodec::stable_ordinals).
    bool ordered_commits = true;
    // How many workers take groups free to go anywhere adapts to the commit rate
    // (worker_limit.h); else all of them do (--fixedParallelism).
    bool adaptive_parallelism = true;
    // Where that limit starts (tests start elsewhere).
    size_t start_parallelism = WorkerLimit::kStart;
    // The target runs on this machine: its backends share our cores, so the limit starts at 1
    // when they are saturated (worker_limit.h).
    bool target_on_this_machine = false;
    // --enableParallelApplies: order-sensitive tables (foreign keys, secondary unique
    // indexes) conflict per group of tables joined by foreign keys instead of all together.
    bool parallel_table_groups = false;
};

// What the apply side of one pipeline run works with; everything outlives the run.
struct ApplyContext {
    ApplyOptions options;
    const PositionCodec& codec;     // the source's, for messages and checkpoint records
    target::TableCatalog& catalog;  // shared by the dispatcher and the workers
    staging::Memo& memo;
    std::string memo_key;
    // The staging session when the memo is in another database (at-least-once, staging.md
    // §4.2); null when it is the target's, and checkpoints commit with the data.
    util::TargetSession* staging = nullptr;
    Progress& progress;
    metrics::Probe& probe;
    // Opens every target transaction, if set (only when the memo is in the target).
    const TransactionFence* fence = nullptr;
    // The userscript's table-level handlers (configureTargetTables), one per worker; empty
    // without them.
    TableHooksFactory table_hooks;
    // Whether rows of a target table go through such handlers, which may change any value
    // after the conflict keys were taken from the source's (ConflictKeys); empty: none do.
    std::function<bool(const target::TargetTable&)> handled_table;

    bool memo_in_target() const { return staging == nullptr; }
};

}  // namespace rep::sequencer
