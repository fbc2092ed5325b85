#include "base/clock.h"

#include "metrics/probe_impl.h"

#include <algorithm>
#include <prometheus/text_serializer.h>

namespace rep::metrics {

int64_t now_us() {
    return unix_now_us();
}

int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

Probe::Impl::Impl(std::string schema_label, std::string source_name)
    : schema(std::move(schema_label)), source(std::move(source_name)) {
    // Every counter and histogram exists from the start with the labels it is known to
    // have, so that rates, error panels and alerts read 0 rather than "no data".
    dial_ok = &counter(r, source + "_dial_success_total", "Successful replication stream starts");
    dial_fail = &counter(r, source + "_dial_failure_total", "Failed replication stream starts");
    empty_txns = &counter(r, source + "_empty_transactions_total",
                          "Source transactions with nothing to apply");
    toasted = &counter(r, source + "_unchanged_toasted_columns_total",
                       "Unchanged TOASTed column values kept on the target");
    dial_ok->Add({});
    dial_fail->Add({});
    empty_txns->Add({});
    if (source == "pglogical") {
        toasted->Add({});
    }
    inserts = &mutations.Add({{"source", source}, {"type", "insert"}});
    updates = &mutations.Add({{"source", source}, {"type", "update"}});
    deletes_seen = &mutations.Add({{"source", source}, {"type", "delete"}});
    source_lag.Add(schema_labels(), kLagBuckets);
    commit_to_apply.Add(schema_labels(), kLagBuckets);
    txn_lag.Add(schema_labels(), kLagBuckets);
    sweep_active.Add(schema_labels()).Set(0);
    sweep_lease.Add(schema_labels()).Set(0);
    {
        std::lock_guard lock(pools_mu);
        add_pool("target");
        add_pool("staging");
    }
    init_process();
    util::set_conn_observer(this);
}

Probe::Impl::~Impl() {
    if (util::conn_observer() == this) {
        util::set_conn_observer(nullptr);
    }
}

void Probe::Impl::close_window() {
    int64_t now = steady_ns();
    busy_ns += active * (now - last_change_ns);
    last_change_ns = now;
    int64_t window = (now - window_start_ns) * slots;
    parallelism.Add({}).Set(window > 0 ? std::min(100.0, 100.0 * static_cast<double>(busy_ns) /
                                                             static_cast<double>(window))
                                       : 0);
    busy_ns = 0;
    window_start_ns = now;
}

Probe::Probe(std::string schema, std::string source)
    : impl_(std::make_unique<Impl>(std::move(schema), std::move(source))) {
    last_apply_steady_ns_ = steady_ns();
}

Probe::~Probe() = default;

void Probe::dial(bool ok) {
    (ok ? impl_->dial_ok : impl_->dial_fail)->Add({}).Increment();
}

void Probe::source_connected(bool connected) {
    source_connected_ = connected;
}

void Probe::mutation(char op) {
    (op == 'I' ? impl_->inserts : op == 'U' ? impl_->updates : impl_->deletes_seen)->Increment();
    // Every row change the reader decodes goes to the apply queue (rows of other databases
    // or outside the publication are not decoded into row changes).
    impl_->sent_to_queue.Increment();
}

void Probe::unchanged_toast(size_t columns) {
    impl_->toasted->Add({}).Increment(static_cast<double>(columns));
}

void Probe::empty_transaction() {
    impl_->empty_txns->Add({}).Increment();
}

void Probe::received_commit(int64_t commit_time_us, Ordinal end) {
    last_commit_seen_us_ = commit_time_us;
    received(end);
    double lag = std::max(0.0, static_cast<double>(now_us() - commit_time_us) / 1e6);
    impl_->source_lag.Add(impl_->schema_labels(), kLagBuckets).Observe(lag);
    impl_->source_lag_last.Add(impl_->conveyor_labels()).Set(lag);
}

void Probe::received(Ordinal position) {
    uint64_t cur = received_.load();
    while (position.value() > cur && !received_.compare_exchange_weak(cur, position.value())) {
    }
}

void Probe::wrote_batch(const std::string& table, size_t rows, double seconds,
                        double oldest_age_seconds) {
    rows_written_ += rows;
    auto labels = impl_->table_labels(table);
    impl_->apply_duration.Add(labels, kLatencyBuckets).Observe(seconds);
    if (oldest_age_seconds >= 0) {
        impl_->mutation_age.Add(labels, kLagBuckets).Observe(oldest_age_seconds);
        impl_->mutation_age_old.Add(labels, kLagBuckets).Observe(oldest_age_seconds);
    }
}

void Probe::committed_rows(const std::string& table, uint64_t upserts, uint64_t deletes) {
    auto labels = impl_->table_labels(table);
    // Both series exist as soon as a table is applied, so that the documented drain
    // expression (upserts + deletes) has a value for every table.
    impl_->upserts.Add(labels).Increment(static_cast<double>(upserts));
    impl_->deletes.Add(labels).Increment(static_cast<double>(deletes));
    impl_->errors.Add(labels);
    rows_applied_ += upserts + deletes;
    std::lock_guard lock(impl_->mu);
    auto& t = impl_->tables[table];
    t.upserts += upserts;
    t.deletes += deletes;
}

void Probe::apply_error(const std::string& table) {
    impl_->errors.Add(impl_->table_labels(table)).Increment();
    std::lock_guard lock(impl_->mu);
    ++impl_->tables[table].errors;
}

bool Probe::time_of_day_dropped(const std::string& table, const std::string& column) {
    prometheus::Labels labels = impl_->table_labels(table);
    labels.emplace("column", column);
    impl_->times_dropped.Add(labels).Increment();
    std::lock_guard lock(impl_->mu);
    return impl_->times_dropped_seen.emplace(table, column).second;
}

void Probe::committed(int64_t oldest_us, int64_t newest_us, size_t txns) {
    last_apply_steady_ns_ = steady_ns();
    int64_t now = now_us();
    if (txns > 0 && oldest_us > 0) {
        impl_->commit_to_apply.Add(impl_->schema_labels(), kLagBuckets)
            .Observe(static_cast<double>(now - oldest_us) / 1e6);
        double newest = std::max(0.0, static_cast<double>(now - newest_us) / 1e6);
        impl_->txn_lag.Add(impl_->schema_labels(), kLagBuckets).Observe(newest);
        impl_->target_lag_last.Add(impl_->conveyor_labels()).Set(newest);
    }
}

void Probe::busy(bool applying) {
    std::lock_guard lock(impl_->mu);
    int64_t now = steady_ns();
    impl_->busy_ns += impl_->active * (now - impl_->last_change_ns);
    impl_->last_change_ns = now;
    impl_->active = std::max<int64_t>(0, impl_->active + (applying ? 1 : -1));
}

void Probe::set_parallelism(size_t workers) {
    std::lock_guard lock(impl_->mu);
    impl_->slots = std::max<int64_t>(1, static_cast<int64_t>(workers));
    if (workers > 1 && impl_->groups_independent == nullptr) {
        impl_->groups_independent = &impl_->parallel_groups.Add({{"placement", "independent"}});
        impl_->groups_after_conflict =
            &impl_->parallel_groups.Add({{"placement", "after_conflict"}});
        impl_->groups_barrier = &impl_->parallel_groups.Add({{"placement", "barrier"}});
    }
}

void Probe::set_parallelism_limit(size_t workers) {
    impl_->parallelism_limit.Set(static_cast<double>(workers));
}

void Probe::parallel_group(GroupPlacement placement, double waited_seconds) {
    // A barrier waits for every earlier group to commit: deferred, in MOLT's words.
    (placement == GroupPlacement::kIndependent ? impl_->lockset_immediate : impl_->lockset_deferred)
        .Increment();
    impl_->lockset_wait.Observe(waited_seconds);
    std::lock_guard lock(impl_->mu);
    Counter* c = placement == GroupPlacement::kIndependent     ? impl_->groups_independent
                 : placement == GroupPlacement::kAfterConflict ? impl_->groups_after_conflict
                                                               : impl_->groups_barrier;
    if (c != nullptr) {
        c->Increment();
    }
}

void Probe::gave_way() {
    impl_->give_ways.Increment();
    impl_->lockset_retried.Increment();
}

void Probe::retried() {
    impl_->lockset_retried.Increment();
}

void Probe::declare_tables(const std::vector<std::string>& tables) {
    for (const std::string& table : tables) {
        auto labels = impl_->table_labels(table);
        impl_->upserts.Add(labels);
        impl_->deletes.Add(labels);
        impl_->errors.Add(labels);
        impl_->apply_duration.Add(labels, kLatencyBuckets);
        impl_->mutation_age.Add(labels, kLagBuckets);
        impl_->mutation_age_old.Add(labels, kLagBuckets);
    }
}

Probe::ScriptSeries* Probe::script_series(const std::string& table, const std::string& function) {
    std::lock_guard lock(impl_->script_mu);
    auto& slot = impl_->script_series[{table, function}];
    if (!slot) {
        prometheus::Labels labels{
            {"schema", impl_->schema}, {"table", table}, {"function", function}};
        slot = std::make_unique<ScriptSeries>(ScriptSeries{
            &impl_->script_invocations.Add(labels), &impl_->script_filtered.Add(labels),
            &impl_->script_processed.Add(labels), &impl_->script_errors.Add(labels),
            &impl_->script_exec.Add(labels, kLatencyBuckets),
            // Handlers run on one thread as rows arrive, with no pool to wait for, so
            // this stays at 0 (MOLT's panel shows a pool of engines saturating).
            &impl_->script_wait.Add(impl_->schema_labels(), kLatencyBuckets)});
    }
    return slot.get();
}

void Probe::script_call(ScriptSeries* series, double seconds, ScriptOutcome outcome) {
    series->invocations->Increment();
    series->exec->Observe(seconds);
    series->wait->Observe(0);
    switch (outcome) {
        case ScriptOutcome::kProcessed:
            series->processed->Increment();
            break;
        case ScriptOutcome::kFiltered:
            series->filtered->Increment();
            break;
        case ScriptOutcome::kError:
            series->errors->Increment();
            break;
    }
}

void Probe::script_calls(ScriptSeries* series, double seconds, uint64_t processed,
                         uint64_t filtered) {
    uint64_t calls = processed + filtered;
    if (calls == 0) {
        return;
    }
    series->invocations->Increment(static_cast<double>(calls));
    series->processed->Increment(static_cast<double>(processed));
    series->filtered->Increment(static_cast<double>(filtered));
    // The bucket Observe() would pick (the first bound at or above the value), once per call.
    auto in_bucket = [&](double value) {
        std::vector<double> increments(kLatencyBuckets.size() + 1, 0);
        increments[static_cast<size_t>(
            std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), value) -
            kLatencyBuckets.begin())] = static_cast<double>(calls);
        return increments;
    };
    series->exec->ObserveMultiple(in_bucket(seconds), seconds * static_cast<double>(calls));
    series->wait->ObserveMultiple(in_bucket(0), 0);
}

void Probe::set_active(bool active) {
    impl_->sweep_active.Add(impl_->schema_labels()).Set(active ? 1 : 0);
    impl_->sweep_lease.Add(impl_->schema_labels()).Set(active ? 1 : 0);
}

void Probe::tick() {
    std::lock_guard lock(impl_->mu);
    impl_->close_window();
}

void Probe::set_queue_sampler(std::function<QueueSample()> sampler) {
    std::lock_guard lock(impl_->mu);
    impl_->queue_sampler = std::move(sampler);
}

void Probe::set_confirmed(Ordinal confirmed) {
    confirmed_ = confirmed.value();
}

void Probe::set_checkpoint(Ordinal checkpoint) {
    checkpoint_ = checkpoint.value();
}

void Probe::add_gauge(const std::string& name, const std::string& help,
                      std::function<std::optional<double>()> sample) {
    auto& family = prometheus::BuildGauge().Name(name).Help(help).Register(*impl_->registry);
    std::lock_guard lock(impl_->mu);
    impl_->source_gauges.push_back({&family, std::move(sample)});
}

std::function<void(double)> Probe::add_histogram(const std::string& name, const std::string& help) {
    Histogram& h = histogram(*impl_->registry, name, help).Add({}, kLatencyBuckets);
    return [&h](double seconds) { h.Observe(seconds); };
}

size_t Probe::queue_weight() const {
    std::lock_guard lock(impl_->mu);
    return impl_->queue_sampler ? impl_->queue_sampler().rows : 0;
}

double Probe::seconds_since_last_apply() const {
    return static_cast<double>(steady_ns() - last_apply_steady_ns_.load()) / 1e9;
}

double Probe::source_lag_seconds() const {
    int64_t seen = last_commit_seen_us_.load();
    return seen == 0 ? 0 : static_cast<double>(now_us() - seen) / 1e6;
}

std::map<std::string, TableCounts> Probe::table_counts() const {
    std::lock_guard lock(impl_->mu);
    return impl_->tables;
}

std::string Probe::exposition(bool with_timestamps) {
    {
        std::lock_guard lock(impl_->mu);
        QueueSample queue = impl_->queue_sampler ? impl_->queue_sampler() : QueueSample{};
        impl_->queue_size.Add({}).Set(static_cast<double>(queue.rows));
        impl_->queue_util.Add({}).Set(100.0 * queue.fill);
        impl_->close_window();
        for (const auto& g : impl_->source_gauges) {
            if (auto v = g.sample()) {
                g.family->Add({}).Set(*v);
            }
        }
    }
    impl_->since_apply.Add({}).Set(seconds_since_last_apply());
    {
        std::lock_guard lock(impl_->mu);
        impl_->sample_process();
    }

    auto families = impl_->registry->Collect();
    if (with_timestamps) {
        int64_t ms = now_us() / 1000;
        for (auto& f : families) {
            for (auto& m : f.metric) {
                m.timestamp_ms = ms;
            }
        }
    }
    return prometheus::TextSerializer().Serialize(families);
}

}  // namespace rep::metrics
