#include "sequencer/parallel_apply.h"

#include "base/error.h"
#include "util/pg_conn.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

namespace rep {
namespace {

// How long the dispatcher waits for the schedule before checking the workers again.
constexpr std::chrono::milliseconds kAssignWait{100};

ChangeItem end_of_group() {
    ChangeItem marker;
    marker.kind = ChangeItem::Kind::kKeepalive;  // at LSN 0: only "commit now" to a worker
    return marker;
}

// Items handed to a worker in one queue operation (a whole group, as a rule): one wake-up
// per group instead of one per item keeps the threads from spending their time switching.
struct Batch {
    std::vector<ChangeItem> items;
    size_t weight() const { return 1; }
};

}  // namespace

// One target connection and the ApplyLoop (worker mode) that drives it on its own thread.
// Its CommitHooks write the worker's checkpoint record in each target transaction and tell
// the schedule when a group has committed.
class ParallelApplyLoop::Worker final : public CommitHooks {
public:
    Worker(size_t index, ParallelApplyLoop& owner, ApplyOptions options, const Dialect& dialect,
           const SchemaRef& target_schema, PgConn& conn)
        : index_(index),
          owner_(owner),
          batches_(std::numeric_limits<size_t>::max() / 2),  // bounded by the schedule's window
          loop_(with_hooks(std::move(options)), dialect, target_schema, conn, owner.memo_,
                owner.staging_, nullptr, owner.progress_, owner.probe_) {}

    ~Worker() override { join(); }

    void start() {
        thread_ = std::thread([this] {
            try {
                for (;;) {
                    auto batch = batches_.pop_for(std::chrono::milliseconds(50));
                    if (!batch) {
                        if (batches_.closed() && batches_.empty()) {
                            break;
                        }
                        continue;
                    }
                    for (ChangeItem& item : batch->items) {
                        loop_.apply(std::move(item));
                    }
                }
                loop_.finish();
            } catch (const Error&) {
                error_ = std::current_exception();
                failed_ = true;
                owner_.schedule_.abort();
            } catch (const std::exception& e) {
                error_ = std::make_exception_ptr(Error(ErrorKind::kFatal, e.what()));
                failed_ = true;
                owner_.schedule_.abort();
            }
        });
    }
    void push(std::vector<ChangeItem> items) {
        Batch b{std::move(items)};
        batches_.push_for(b, std::chrono::hours(1));
    }
    void push(ChangeItem item) {
        std::vector<ChangeItem> one;
        one.push_back(std::move(item));
        push(std::move(one));
    }
    // No more groups: apply what is queued, then stop (an unfinished group is rolled back).
    void finish() { batches_.close(); }
    void join() {
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    bool failed() const { return failed_.load(); }
    std::exception_ptr error() const { return error_; }

    std::vector<std::pair<std::string, std::string>> memo_rows(LsnRange commits) override {
        if (!owner_.options_.memo_in_target) {
            return {};  // at-least-once: the dispatcher writes the plain row to staging
        }
        WorkerRecord record = owner_.schedule_.record_for(index_, commits);
        const std::string& key = owner_.options_.memo_key;
        std::vector<std::pair<std::string, std::string>> rows = {
            {worker_record_key(key, index_), encode_record(record)}};
        if (index_ == 0 && !record.prefix.is_zero()) {
            // Keeps the plain (MOLT-compatible) row close to the prefix. Only worker 0 writes
            // it, so commits of different workers never wait on each other's row lock.
            rows.emplace_back(key, record.prefix.str());
        }
        return rows;
    }

    bool landed(PgConn& conn, LsnRange commits) override {
        std::string key = worker_record_key(owner_.options_.memo_key, index_);
        auto text = owner_.memo_.read(conn, key);
        if (!text) {
            return false;
        }
        WorkerRecord record = decode_record(*text, key);
        return std::find(record.ranges.begin(), record.ranges.end(), commits) !=
               record.ranges.end();
    }

    void after_commit(LsnRange commits) override {
        Lsn prefix = owner_.schedule_.committed(index_, commits);
        owner_.progress_.advance(prefix, prefix.str());
        owner_.probe_.set_positions(owner_.progress_.get(), prefix);
    }

private:
    ApplyOptions with_hooks(ApplyOptions o) {
        o.hooks = this;
        o.applied = nullptr;  // the dispatcher already dropped applied transactions
        return o;
    }

    size_t index_;
    ParallelApplyLoop& owner_;
    BoundedQueue<Batch> batches_;
    ApplyLoop loop_;
    std::atomic<bool> failed_{false};
    std::exception_ptr error_;
    std::thread thread_;
};

ParallelApplyLoop::ParallelApplyLoop(ApplyOptions options, ParallelOptions parallel,
                                     const Dialect& dialect, SchemaRef target_schema,
                                     PgConn& dispatcher_conn, std::vector<PgConn*> workers,
                                     Memo& memo, PgConn* staging, BoundedQueue<ChangeItem>& queue,
                                     Progress& progress, metrics::Probe& probe,
                                     const AppliedSet& applied)
    : options_(std::move(options)),
      parallel_(parallel),
      conn_(dispatcher_conn),
      memo_(memo),
      staging_(staging),
      queue_(queue),
      progress_(progress),
      probe_(probe),
      applied_(applied),
      resolver_(dialect, target_schema),
      // The window bounds what is dispatched beyond the committed prefix: enough to keep
      // every worker busy with one group queued behind the running one.
      schedule_(workers.size(), 2 * workers.size() + 2,
                std::max(applied.prefix(), progress.get())) {
    for (size_t i = 0; i < workers.size(); ++i) {
        workers_.push_back(
            std::make_unique<Worker>(i, *this, options_, dialect, target_schema, *workers[i]));
    }
    plain_written_ = applied.prefix();
}

ParallelApplyLoop::~ParallelApplyLoop() {
    for (auto& w : workers_) {
        w->finish();
    }
    for (auto& w : workers_) {
        w->join();
    }
}

bool ParallelApplyLoop::failed() const {
    for (const auto& w : workers_) {
        if (w->failed()) {
            return true;
        }
    }
    return false;
}

void ParallelApplyLoop::run(const std::atomic<bool>& stop) {
    for (auto& w : workers_) {
        w->start();
    }
    std::exception_ptr dispatch_error;
    auto last_plain = std::chrono::steady_clock::now();
    auto last_item = last_plain;
    try {
        while (!stop.load() && !failed()) {
            // While changes flow, take whatever has queued up every millisecond: the
            // dispatcher is much faster than the reader, and waking it for every item would
            // cost more CPU than the dispatching. After 50 ms without any, and with no group
            // waiting for the workers to drain (ready()), block instead.
            std::deque<ChangeItem> items = queue_.take_all();
            auto now = std::chrono::steady_clock::now();
            if (items.empty()) {
                if (now - last_item >= std::chrono::milliseconds(50) && group_.items.empty()) {
                    if (auto item = queue_.pop_for(std::chrono::milliseconds(50))) {
                        items.push_back(std::move(*item));
                    }
                } else {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            }
            if (!options_.memo_in_target && now - last_plain >= std::chrono::seconds(1)) {
                write_plain_checkpoint();
                last_plain = now;
            }
            if (items.empty()) {
                if (!in_txn_ && !group_.items.empty() && ready(group_)) {
                    dispatch(group_);  // the source is quiet: do not wait for more
                }
                if (queue_.closed() && queue_.empty()) {
                    break;
                }
                continue;
            }
            last_item = std::chrono::steady_clock::now();
            taken_ = items.size();
            for (ChangeItem& item : items) {
                --taken_;
                on_item(std::move(item));
            }
        }
        // On a stop, whole transactions already grouped are committed, as the serial loop does.
        if (!failed() && !in_txn_ && !group_.items.empty()) {
            dispatch(group_);
        }
    } catch (...) {
        dispatch_error = std::current_exception();
    }
    for (auto& w : workers_) {
        w->finish();
    }
    for (auto& w : workers_) {
        w->join();
    }
    for (auto& w : workers_) {
        if (w->error()) {
            std::rethrow_exception(w->error());
        }
    }
    if (dispatch_error) {
        std::rethrow_exception(dispatch_error);
    }
    write_plain_checkpoint();
}

void ParallelApplyLoop::on_item(ChangeItem item) {
    switch (item.kind) {
        case ChangeItem::Kind::kBegin:
            in_txn_ = true;
            txn_.clear();
            txn_.commits = {item.lsn, item.lsn};
            skipping_ = applied_.contains(item.lsn);
            if (skipping_) {
                spdlog::debug("skipping source transaction {} (commit at {}): already applied",
                              item.xid, item.lsn.str());
                return;
            }
            txn_.items.push_back(std::move(item));
            return;
        case ChangeItem::Kind::kChanges:
        case ChangeItem::Kind::kTruncate:
            if (skipping_) {
                return;
            }
            if (streaming_) {
                workers_[stream_worker_]->push(std::move(item));
                return;
            }
            if (item.kind == ChangeItem::Kind::kTruncate) {
                txn_.barrier = true;
            } else {
                txn_.rows += item.mutations.size();
                if (!txn_.barrier) {
                    add_keys(item);
                }
            }
            txn_.items.push_back(std::move(item));
            if (txn_.rows > options_.flush_size) {
                start_streaming();
            }
            return;
        case ChangeItem::Kind::kCommit:
            close_transaction(std::move(item));
            return;
        case ChangeItem::Kind::kKeepalive:
            if (in_txn_) {
                return;  // readers send keepalives only between transactions
            }
            if (!group_.items.empty()) {
                dispatch(group_);
            }
            pass(item.lsn);
            return;
    }
}

void ParallelApplyLoop::add_keys(const ChangeItem& changes) {
    try {
        for (const Mutation& m : changes.mutations) {
            auto mapping = resolver_.resolve(conn_, m.relation);
            const TargetTable& t = mapping->target();
            if (t.order_sensitive) {
                // Foreign keys and secondary unique indexes relate rows of different keys
                // (and tables): such tables are ordered as a whole, not per key.
                txn_.keys.push_back(group_key(t));
                continue;
            }
            auto key = mapping->key_hash(m.values);
            auto old_key = m.old_values.empty() ? key : mapping->key_hash(m.old_values);
            if (!key || !old_key) {
                txn_.barrier = true;  // a key is missing: the worker reports it in context
                return;
            }
            txn_.keys.push_back(*key);
            if (*old_key != *key) {
                txn_.keys.push_back(*old_key);
            }
        }
    } catch (const Error& e) {
        if (e.retryable()) {
            throw;
        }
        // An unknown table or schema drift: apply the transaction alone, so the worker stops
        // with the same message (and after the same commits) as the serial loop.
        txn_.barrier = true;
    }
}

uint64_t ParallelApplyLoop::group_key(const TargetTable& table) {
    if (auto it = group_keys_.find(&table); it != group_keys_.end()) {
        return it->second;
    }
    std::string name = table.name.schema.schema + "." + table.name.table;
    std::string group = "*";
    if (parallel_.parallel_table_groups) {
        if (!table_groups_loaded_ || !table_groups_.contains(name)) {
            // Tables joined by foreign keys (in either direction, across any schema) form one
            // group; read afresh whenever a table we have not placed shows up.
            static const std::string kSql = R"(
SELECT cn.nspname || '.' || c.relname, fn.nspname || '.' || f.relname
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE k.contype = 'f')";
            PgResult r = conn_.exec(kSql);
            std::unordered_map<std::string, std::string> parent;
            std::function<std::string(const std::string&)> root = [&](const std::string& x) {
                auto it = parent.find(x);
                if (it == parent.end() || it->second == x) {
                    return x;
                }
                return it->second = root(it->second);
            };
            for (int i = 0; i < PQntuples(r.get()); ++i) {
                std::string a = root(PQgetvalue(r.get(), i, 0));
                std::string b = root(PQgetvalue(r.get(), i, 1));
                parent.emplace(a, a);
                parent.emplace(b, b);
                if (a != b) {
                    parent[std::max(a, b)] = std::min(a, b);
                }
            }
            table_groups_.clear();
            group_keys_.clear();
            for (const auto& [t, p] : parent) {
                table_groups_[t] = root(t);
            }
            table_groups_[name];  // placed: not looked up again until another table appears
            table_groups_loaded_ = true;
        }
        const std::string& g = table_groups_[name];
        group = g.empty() ? name : g;
    }
    return group_keys_[&table] = std::hash<std::string>{}("order-sensitive tables: " + group);
}

void ParallelApplyLoop::start_streaming() {
    // Too large to hold: everything before it commits first, then it is streamed to one
    // worker as it arrives, alone.
    if (!group_.items.empty()) {
        dispatch(group_);
    }
    std::optional<size_t> w;
    while (!(w = schedule_.assign({}, true, txn_.commits, Lsn(), kAssignWait))) {
        if (failed()) {
            throw Error(ErrorKind::kRetryable, "an apply worker failed");
        }
    }
    probe_.parallel_group(metrics::Probe::GroupPlacement::kBarrier);
    stream_worker_ = *w;
    workers_[stream_worker_]->push(std::move(txn_.items));
    txn_.clear();
    streaming_ = true;
}

void ParallelApplyLoop::close_transaction(ChangeItem commit) {
    in_txn_ = false;
    Lsn end = commit.lsn;
    if (streaming_) {
        streaming_ = false;
        schedule_.finish(end);
        std::vector<ChangeItem> last;
        last.push_back(std::move(commit));
        last.push_back(end_of_group());
        workers_[stream_worker_]->push(std::move(last));
        return;
    }
    bool nothing = std::exchange(skipping_, false) || txn_.items.size() <= 1;
    if (nothing) {
        // Already applied, empty or fully filtered: only the position moves, in order.
        if (group_.items.empty()) {
            pass(end);
        } else {
            group_.end = end;
        }
        return;
    }
    txn_.items.push_back(std::move(commit));
    txn_.end = end;
    txn_.txns = 1;
    if (txn_.barrier) {
        if (!group_.items.empty()) {
            dispatch(group_);
        }
        dispatch(txn_);
        return;
    }
    if (group_.items.empty()) {
        group_.commits.lo = txn_.commits.lo;
        group_.started = std::chrono::steady_clock::now();
    }
    group_.commits.hi = txn_.commits.hi;
    group_.end = end;
    group_.rows += txn_.rows;
    ++group_.txns;
    group_.keys.insert(group_.keys.end(), txn_.keys.begin(), txn_.keys.end());
    for (ChangeItem& it : txn_.items) {
        group_.items.push_back(std::move(it));
    }
    txn_.clear();
    if (ready(group_)) {
        dispatch(group_);
    }
}

bool ParallelApplyLoop::ready(const Pending& group) const {
    if (group.rows >= options_.flush_size || group.txns >= options_.timestamp_limit ||
        std::chrono::steady_clock::now() - group.started >= options_.flush_period) {
        return true;
    }
    // Nothing more is queued. Send the group at once only if the workers are idle: then it
    // is the fastest way to the target. While groups are still applying, keep adding to this
    // one instead; it could not start much sooner, and many small target transactions cost
    // more in total than a few large ones (the serial loop groups the same way, because the
    // queue fills while it applies).
    return taken_ == 0 && queue_.empty() && schedule_.in_flight() == 0;
}

void ParallelApplyLoop::dispatch(Pending& group) {
    std::vector<uint64_t>& keys = group.keys;  // deduplicated here, once per group
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::optional<size_t> w;
    bool shared = false;
    while (!(w = schedule_.assign(keys, group.barrier, group.commits, group.end, kAssignWait,
                                  &shared))) {
        if (failed()) {
            group.clear();  // not applied; the source sends it again after a restart
            return;
        }
    }
    using Placement = metrics::Probe::GroupPlacement;
    probe_.parallel_group(group.barrier ? Placement::kBarrier
                          : shared      ? Placement::kAfterConflict
                                        : Placement::kIndependent);
    group.items.push_back(end_of_group());
    workers_[*w]->push(std::move(group.items));
    group.clear();
}

void ParallelApplyLoop::pass(Lsn lsn) {
    Lsn prefix = schedule_.pass(lsn);
    progress_.advance(prefix, prefix.str());
}

void ParallelApplyLoop::write_plain_checkpoint() {
    Lsn prefix = schedule_.prefix();
    if (prefix.is_zero() || prefix <= plain_written_) {
        return;
    }
    try {
        if (options_.memo_in_target) {
            memo_.write(conn_, options_.memo_key, prefix.str());
        } else if (staging_ != nullptr) {
            if (!staging_->connected()) {
                staging_->connect();
            }
            memo_.write(*staging_, options_.memo_key, prefix.str());
        }
        plain_written_ = prefix;
    } catch (const Error& e) {
        // The records (or, with separate staging, the next write) still hold the position.
        spdlog::warn("could not write the checkpoint {} to the memo table: {}", prefix.str(),
                     e.what());
    }
}

}  // namespace rep
