#pragma once

#include "core/position.h"
#include "core/progress.h"
#include "core/source_layout.h"
#include "core/table_name.h"
#include "source/change_sink.h"

#include "metrics/probe.h"
#include <nlohmann/json.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace rep::source {

// How much of the source's log is still to apply, for the progress log line: `remaining`
// and `done` in one unit ("bytes of WAL", "transactions"), so that the rate of `done` gives
// an ETA.
struct Backlog {
    double remaining = 0;
    double done = 0;
    std::string unit;
};

// A replication source: one per command, each in its own folder under src/source/ (see
// src/source/README.md). The runner (app/runner.h) drives it in this order:
//
//   add_metrics, preflight (retried), choose_start, then run() on the reader thread once per
//   pipeline run (a new run after each retryable failure), while the monitor thread calls
//   check(), backlog() and positions() once a second.
//
// The source owns its positions: it spells them (codec()), chooses the memo key of its
// checkpoint, and reads after whatever Progress says is applied.
class Source {
public:
    virtual ~Source() = default;

    // The command ("pglogical", "mylogical"): the metrics prefix, `source` label and log word.
    virtual std::string name() const = 0;
    // How this source's positions are read, spelled and named.
    virtual const PositionCodec& codec() const = 0;
    // The staging memo key of the checkpoint for this target schema.
    virtual std::string memo_key(const SchemaRef& target_schema) const = 0;

    // Registers the source's own gauges (its positions, its backlog) with the probe.
    virtual void add_metrics(metrics::Probe& probe, const Progress& progress) = 0;
    // Checks the source's settings; throws rep::Error with the fix. May be retried.
    virtual void preflight() = 0;
    // The bare names of the tables this source sends changes of, as known after preflight():
    // each goes to the target table of that name in --targetSchema.
    virtual std::vector<std::string> table_names() const = 0;
    // Those tables' layouts as the source's catalog describes them after preflight(), for the
    // target preflight (target/schema_report.h).
    virtual std::vector<SourceLayout> table_layouts() const = 0;
    // Called when this process takes the stream over from another process whose lease it
    // let expire (app/lease_keeper.h): ends what that process may still hold at the source
    // and would keep this one from reading, such as a replication slot's walsender, which a
    // frozen or partitioned client keeps until the server's wal_sender_timeout. May throw.
    virtual void take_over() = 0;
    // Chooses where to start from the checkpoint stored in `memo_table` (nullopt on a first
    // run), logs it and returns it; Progress starts there. Throws rep::Error (fatal) if the
    // checkpoint cannot be used.
    virtual Position choose_start(const std::optional<Position>& checkpoint,
                                  const std::string& memo_table) = 0;
    // Reads the source into `sink` until `stop`, resuming after the position `progress`
    // holds (what the target has applied). Throws rep::Error: retryable if a new run may
    // succeed.
    virtual void run(ChangeSink& sink, Progress& progress, metrics::Probe& probe,
                     const std::atomic<bool>& stop) = 0;

    // Monitor hook, from its thread: "" if the source answers, else a one-line problem.
    virtual std::string check() = 0;
    // Monitor hook: what is still to apply, if the source can tell.
    virtual std::optional<Backlog> backlog(const Progress& progress) const = 0;
    // Source settings for /_/diag (connection strings redacted).
    virtual nlohmann::json describe() const = 0;
    // The source's positions for /_/diag, in its own terms.
    virtual nlohmann::json positions(const Progress& progress,
                                     const metrics::Probe& probe) const = 0;
};

}  // namespace rep::source
