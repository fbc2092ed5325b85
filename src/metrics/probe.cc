#include "metrics/probe.h"

#include "base/version.h"

#include <filesystem>
#include <fstream>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

namespace rep::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Log-spaced from 1 ms to 1 min, as the original's histograms.
const Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60};
// Lag and age: 10 ms to a day.
const Histogram::BucketBoundaries kLagBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,    2.5,  5,    10,
                                                 30,   60,   120, 300,  900, 3600, 7200, 86400};

int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double process_start_time() {
    // Field 22 of /proc/self/stat is the start time in clock ticks since boot.
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    unsigned long long ticks = 0;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
        if (i == 22) {
            ticks = std::stoull(field);
        }
    }
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    double boot = static_cast<double>(now_us()) / 1e6 - uptime;
    return boot + static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

struct Probe::Impl {
    std::string schema;
    std::string source;
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

    Family<Counter>& upserts = prometheus::BuildCounter()
                                   .Name("apply_upserts_total")
                                   .Help("Rows upserted on the target")
                                   .Register(*registry);
    Family<Counter>& deletes = prometheus::BuildCounter()
                                   .Name("apply_deletes_total")
                                   .Help("Rows deleted on the target")
                                   .Register(*registry);
    Family<Counter>& errors = prometheus::BuildCounter()
                                  .Name("apply_errors_total")
                                  .Help("Target apply errors")
                                  .Register(*registry);
    Family<Histogram>& apply_duration = prometheus::BuildHistogram()
                                            .Name("apply_duration_seconds")
                                            .Help("Time to apply a batch of rows to a table")
                                            .Register(*registry);
    Family<Histogram>& mutation_age =
        prometheus::BuildHistogram()
            .Name("target_apply_mutation_age_seconds")
            .Help("Source commit to target write, per applied batch (its oldest row)")
            .Register(*registry);
    Family<Counter>& mutations = prometheus::BuildCounter()
                                     .Name("mutation_total")
                                     .Help("Row changes received from the source")
                                     .Register(*registry);
    // Named after the source (pglogical_dial_success_total, mylogical_dial_success_total...).
    Family<Counter>* dial_ok = nullptr;
    Family<Counter>* dial_fail = nullptr;
    Family<Counter>* empty_txns = nullptr;
    Family<Counter>* toasted = nullptr;
    Family<Gauge>& source_lag =
        prometheus::BuildGauge()
            .Name("core_source_lag_seconds")
            .Help("Source commit to the reader receiving the commit, for the newest commit")
            .Register(*registry);
    Family<Histogram>& commit_to_apply =
        prometheus::BuildHistogram()
            .Name("source_commit_to_apply_lag_seconds")
            .Help("Source commit to target commit, per target transaction (oldest source commit)")
            .Register(*registry);
    Family<Gauge>& txn_lag =
        prometheus::BuildGauge()
            .Name("target_apply_transaction_lag_seconds")
            .Help("Source commit to target commit of the newest applied source transaction")
            .Register(*registry);
    Family<Gauge>& queue_size = prometheus::BuildGauge()
                                    .Name("target_apply_queue_size")
                                    .Help("Row changes waiting in the apply queue")
                                    .Register(*registry);
    Family<Gauge>& queue_util = prometheus::BuildGauge()
                                    .Name("target_apply_queue_utilization_percent")
                                    .Help("Share of --targetApplyQueueSize in use")
                                    .Register(*registry);
    Family<Gauge>& parallelism = prometheus::BuildGauge()
                                     .Name("core_parallelism_utilization_percent")
                                     .Help("Share of the last second the apply loop spent applying")
                                     .Register(*registry);
    Family<Counter>& parallel_groups =
        prometheus::BuildCounter()
            .Name("core_parallel_groups_total")
            .Help("Target transactions handed to parallel apply workers, by how they were placed")
            .Register(*registry);
    Counter& give_ways = prometheus::BuildCounter()
                             .Name("core_commit_order_give_ways_total")
                             .Help(
                                 "Target transactions rolled back and applied again because "
                                 "they waited too long for earlier ones to commit")
                             .Register(*registry)
                             .Add({});
    Counter* groups_independent = nullptr;  // set by set_parallelism(N > 1)
    Counter* groups_after_conflict = nullptr;
    Counter* groups_barrier = nullptr;
    Family<Gauge>& since_apply =
        prometheus::BuildGauge()
            .Name("target_seconds_since_last_apply")
            .Help("Seconds since the last successful target commit (or since start)")
            .Register(*registry);
    Family<Gauge>& build_info = prometheus::BuildGauge()
                                    .Name("replicator_build_info")
                                    .Help("Build information; the value is always 1")
                                    .Register(*registry);
    Family<Counter>& cpu = prometheus::BuildCounter()
                               .Name("process_cpu_seconds_total")
                               .Help("User and system CPU time spent, in seconds")
                               .Register(*registry);
    Family<Gauge>& rss = prometheus::BuildGauge()
                             .Name("process_resident_memory_bytes")
                             .Help("Resident memory size in bytes")
                             .Register(*registry);
    Family<Gauge>& vmem = prometheus::BuildGauge()
                              .Name("process_virtual_memory_bytes")
                              .Help("Virtual memory size in bytes")
                              .Register(*registry);
    Family<Gauge>& fds = prometheus::BuildGauge()
                             .Name("process_open_fds")
                             .Help("Number of open file descriptors")
                             .Register(*registry);
    Family<Gauge>& max_fds = prometheus::BuildGauge()
                                 .Name("process_max_fds")
                                 .Help("Maximum number of open file descriptors")
                                 .Register(*registry);
    Family<Gauge>& start_time =
        prometheus::BuildGauge()
            .Name("process_start_time_seconds")
            .Help("Start time of the process since the Unix epoch, in seconds")
            .Register(*registry);

    Counter& cpu_total = cpu.Add({});
    // mutation_total{type} children, resolved once: mutation() runs for every row, and a
    // labelled Add() is a locked hash lookup.
    Counter* inserts = nullptr;
    Counter* updates = nullptr;
    Counter* deletes_seen = nullptr;
    double cpu_reported = 0;

    std::mutex mu;  // guards tables, the busy accounting and the samplers
    std::map<std::string, TableCounts> tables;
    std::function<std::pair<size_t, size_t>()> queue_sampler;
    // Apply utilization: the integral of busy workers over time, against slots x window.
    int64_t active = 0;
    int64_t slots = 1;
    int64_t last_change_ns = steady_ns();
    int64_t busy_ns = 0;
    int64_t window_start_ns = steady_ns();

    // Sets core_parallelism_utilization_percent for the window ending now and starts the next.
    void close_window() {
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
    // Gauges the source registered, sampled at each exposition.
    struct SourceGauge {
        Family<Gauge>* family;
        std::function<std::optional<double>()> sample;
    };
    std::vector<SourceGauge> source_gauges;

    prometheus::Labels table_labels(const std::string& table) const {
        return {{"schema", schema}, {"table", table}};
    }
    prometheus::Labels schema_labels() const { return {{"schema", schema}}; }
};

Probe::Probe(std::string schema, std::string source) : impl_(std::make_unique<Impl>()) {
    impl_->schema = std::move(schema);
    impl_->source = std::move(source);
    impl_->build_info.Add({{"version", kVersion}, {"source", impl_->source}}).Set(1);
    impl_->start_time.Add({}).Set(process_start_time());
    const std::string& src = impl_->source;
    impl_->dial_ok = &prometheus::BuildCounter()
                          .Name(src + "_dial_success_total")
                          .Help("Successful replication stream starts")
                          .Register(*impl_->registry);
    impl_->dial_fail = &prometheus::BuildCounter()
                            .Name(src + "_dial_failure_total")
                            .Help("Failed replication stream starts")
                            .Register(*impl_->registry);
    impl_->empty_txns = &prometheus::BuildCounter()
                             .Name(src + "_empty_transactions_total")
                             .Help("Source transactions with nothing to apply")
                             .Register(*impl_->registry);
    impl_->toasted = &prometheus::BuildCounter()
                          .Name(src + "_unchanged_toasted_columns_total")
                          .Help("Unchanged TOASTed column values kept on the target")
                          .Register(*impl_->registry);
    impl_->dial_ok->Add({});
    impl_->dial_fail->Add({});
    impl_->empty_txns->Add({});
    if (src == "pglogical") {
        impl_->toasted->Add({});
    }
    impl_->inserts = &impl_->mutations.Add({{"source", impl_->source}, {"type", "insert"}});
    impl_->updates = &impl_->mutations.Add({{"source", impl_->source}, {"type", "update"}});
    impl_->deletes_seen = &impl_->mutations.Add({{"source", impl_->source}, {"type", "delete"}});
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
    double lag = static_cast<double>(now_us() - commit_time_us) / 1e6;
    impl_->source_lag.Add(impl_->schema_labels()).Set(lag < 0 ? 0 : lag);
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
    }
}

void Probe::committed_rows(const std::string& table, uint64_t upserts, uint64_t deletes) {
    auto labels = impl_->table_labels(table);
    // Both series exist as soon as a table is applied, so that the documented drain
    // expression (upserts + deletes) has a value for every table.
    impl_->upserts.Add(labels).Increment(static_cast<double>(upserts));
    impl_->deletes.Add(labels).Increment(static_cast<double>(deletes));
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

void Probe::committed(int64_t oldest_us, int64_t newest_us, size_t txns) {
    last_apply_steady_ns_ = steady_ns();
    int64_t now = now_us();
    if (txns > 0 && oldest_us > 0) {
        impl_->commit_to_apply.Add(impl_->schema_labels(), kLagBuckets)
            .Observe(static_cast<double>(now - oldest_us) / 1e6);
        impl_->txn_lag.Add(impl_->schema_labels()).Set(static_cast<double>(now - newest_us) / 1e6);
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

void Probe::parallel_group(GroupPlacement placement) {
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
}

void Probe::tick() {
    std::lock_guard lock(impl_->mu);
    impl_->close_window();
}

void Probe::set_queue_sampler(std::function<std::pair<size_t, size_t>()> sampler) {
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

size_t Probe::queue_weight() const {
    std::lock_guard lock(impl_->mu);
    return impl_->queue_sampler ? impl_->queue_sampler().first : 0;
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
        auto [queued, capacity] =
            impl_->queue_sampler ? impl_->queue_sampler() : std::pair<size_t, size_t>{0, 1};
        impl_->queue_size.Add({}).Set(static_cast<double>(queued));
        impl_->queue_util.Add({}).Set(capacity == 0 ? 0
                                                    : 100.0 * static_cast<double>(queued) /
                                                          static_cast<double>(capacity));
        impl_->close_window();
        for (const auto& g : impl_->source_gauges) {
            if (auto v = g.sample()) {
                g.family->Add({}).Set(*v);
            }
        }
    }
    impl_->since_apply.Add({}).Set(seconds_since_last_apply());
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    {
        std::lock_guard lock(impl_->mu);
        if (cpu > impl_->cpu_reported) {
            impl_->cpu_total.Increment(cpu - impl_->cpu_reported);
            impl_->cpu_reported = cpu;
        }
    }
    std::ifstream statm("/proc/self/statm");
    unsigned long long pages_total = 0, pages_rss = 0;
    statm >> pages_total >> pages_rss;
    double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    impl_->vmem.Add({}).Set(static_cast<double>(pages_total) * page);
    impl_->rss.Add({}).Set(static_cast<double>(pages_rss) * page);
    int nfds = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++nfds;
    }
    nfds -= nfds > 0 ? 1 : 0;  // the directory's own descriptor
    impl_->fds.Add({}).Set(nfds);
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    impl_->max_fds.Add({}).Set(static_cast<double>(rl.rlim_cur));

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
