#include "fake_target.h"

#include "staging/memo.h"

#include <stdexcept>
#include <utility>

namespace rep::testing {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

// "a", "b""c" -> {a, b"c}: the quoted identifiers of a comma-separated list.
std::vector<std::string> identifiers(const std::string& list) {
    std::vector<std::string> out;
    for (size_t i = 0; i < list.size(); ++i) {
        if (list[i] != '"') {
            continue;
        }
        std::string name;
        for (++i; i < list.size(); ++i) {
            if (list[i] == '"' && i + 1 < list.size() && list[i + 1] == '"') {
                name += '"';
                ++i;
            } else if (list[i] == '"') {
                break;
            } else {
                name += list[i];
            }
        }
        out.push_back(std::move(name));
    }
    return out;
}

// The text between `open` (after `from`) and the next ')'.
std::string between(const std::string& sql, size_t from, const char* open) {
    size_t a = sql.find(open, from);
    if (a == std::string::npos) {
        throw std::logic_error("fake target cannot read: " + sql);
    }
    a += std::string(open).size();
    return sql.substr(a, sql.find(')', a) - a);
}

FakeStatement parse(const std::string& sql, const std::vector<std::optional<std::string>>& values) {
    FakeStatement s;
    if (sql.find("(key, value) VALUES") != std::string::npos) {
        s.kind = FakeStatement::Kind::kMemo;
        for (size_t i = 0; i + 1 < values.size(); i += 2) {
            s.rows.push_back({values[i], values[i + 1]});
        }
        return s;
    }
    if (starts_with(sql, "INSERT INTO ")) {
        s.kind = FakeStatement::Kind::kUpsert;
        size_t end = sql.find(" (", 12);
        s.table = sql.substr(12, end - 12);
        s.columns = identifiers(between(sql, end, " ("));
    } else if (starts_with(sql, "UPDATE ")) {
        s.kind = FakeStatement::Kind::kMove;
        size_t end = sql.find(" AS target_row SET ");
        s.table = sql.substr(7, end - 7);
        size_t from = sql.find(" FROM unnest(", end);
        s.columns = identifiers(sql.substr(end, from - end));
        size_t where = sql.find(" WHERE (", from);
        s.old_key = identifiers(sql.substr(where, sql.find(") = (", where) - where));
    } else if (starts_with(sql, "DELETE FROM ")) {
        s.kind = FakeStatement::Kind::kDelete;
        size_t end = sql.find(" WHERE (", 12);
        s.table = sql.substr(12, end - 12);
        s.columns = identifiers(between(sql, end, " WHERE ("));
    } else if (starts_with(sql, "TRUNCATE ")) {
        s.kind = FakeStatement::Kind::kTruncate;
        std::string list = sql.substr(9);
        list = list.substr(0, std::min(list.find(" RESTART"), list.find(" CASCADE")));
        for (size_t start = 0; start < list.size();) {
            size_t comma = list.find(", ", start);
            s.tables.push_back(list.substr(start, comma - start));
            start = comma == std::string::npos ? list.size() : comma + 2;
        }
        return s;
    } else {
        return s;
    }
    std::vector<std::vector<std::optional<std::string>>> columns;
    for (const auto& v : values) {
        columns.push_back(parse_text_array(v.value_or("{}")));
    }
    size_t n = columns.empty() ? 0 : columns[0].size();
    for (size_t r = 0; r < n; ++r) {
        std::vector<std::optional<std::string>> row;
        for (const auto& c : columns) {
            row.push_back(c.at(r));
        }
        s.rows.push_back(std::move(row));
    }
    return s;
}

}  // namespace

std::vector<std::optional<std::string>> parse_text_array(const std::string& literal) {
    std::vector<std::optional<std::string>> out;
    size_t i = 1;  // after '{'
    while (i < literal.size() && literal[i] != '}') {
        if (literal.compare(i, 4, "NULL") == 0) {
            out.emplace_back(std::nullopt);
            i += 4;
        } else {
            std::string v;
            for (++i; i < literal.size() && literal[i] != '"'; ++i) {
                if (literal[i] == '\\') {
                    ++i;
                }
                v += literal[i];
            }
            ++i;  // closing quote
            out.emplace_back(std::move(v));
        }
        if (i < literal.size() && literal[i] == ',') {
            ++i;
        }
    }
    return out;
}

void FakeDatabase::put(const std::string& table, const FakeRow& row) {
    std::lock_guard lock(mu_);
    Table& t = tables_.at(table);
    std::string key;
    for (const std::string& pk : t.pk) {
        const auto& v = row.at(pk);
        key += (v ? *v : std::string("\x01NULL")) + "|";
    }
    t.rows[key] = row;
}

void FakeDatabase::add_table(const target::TargetTable& table) {
    std::lock_guard lock(mu_);
    Table& t = tables_[table.name.sql(false)];
    for (size_t i : table.pk) {
        t.pk.push_back(table.columns[i].name);
    }
}

std::map<std::string, FakeRow> FakeDatabase::rows(const std::string& table) const {
    std::lock_guard lock(mu_);
    return tables_.at(table).rows;
}

std::optional<std::string> FakeDatabase::memo(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = memo_.find(key);
    return it == memo_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::vector<std::string> FakeDatabase::memo_writes(const std::string& key) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [k, v] : memo_writes_) {
        if (k == key) {
            out.push_back(v);
        }
    }
    return out;
}

size_t FakeDatabase::commits() const {
    std::lock_guard lock(mu_);
    return commits_;
}

void FakeDatabase::break_next_commit(bool landed, CommitFault how) {
    std::lock_guard lock(mu_);
    break_commit_ = landed;
    break_how_ = how;
}

std::optional<Error> FakeDatabase::check(const FakeStatement& s) {
    std::function<std::optional<Error>(const FakeStatement&)> f;
    {
        std::lock_guard lock(mu_);
        f = fail;
    }
    return f ? f(s) : std::nullopt;
}

void FakeDatabase::apply(const FakeStatement& s) {
    auto key_of = [](const Table& t, const std::vector<std::string>& cols,
                     const std::vector<std::optional<std::string>>& row) {
        std::string key;
        for (const std::string& pk : t.pk) {
            for (size_t i = 0; i < cols.size(); ++i) {
                if (cols[i] == pk) {
                    key += (row[i] ? *row[i] : std::string("\x01NULL")) + "|";
                }
            }
        }
        return key;
    };
    switch (s.kind) {
        case FakeStatement::Kind::kMemo:
            for (const auto& row : s.rows) {
                memo_[row[0].value_or("")] = row[1].value_or("");
                memo_writes_.emplace_back(row[0].value_or(""), row[1].value_or(""));
            }
            return;
        case FakeStatement::Kind::kTruncate:
            for (const std::string& t : s.tables) {
                tables_.at(t).rows.clear();
            }
            return;
        case FakeStatement::Kind::kUpsert: {
            Table& t = tables_.at(s.table);
            for (const auto& row : s.rows) {
                FakeRow& target = t.rows[key_of(t, s.columns, row)];
                for (size_t i = 0; i < s.columns.size(); ++i) {
                    target[s.columns[i]] = row[i];
                }
            }
            return;
        }
        case FakeStatement::Kind::kMove: {
            Table& t = tables_.at(s.table);
            size_t n = s.columns.size();
            for (const auto& row : s.rows) {
                std::vector<std::optional<std::string>> old(row.begin() + static_cast<long>(n),
                                                            row.end());
                auto it = t.rows.find(key_of(t, s.old_key, old));
                if (it == t.rows.end()) {
                    continue;  // UPDATE ... WHERE key = old found nothing
                }
                FakeRow moved = it->second;
                t.rows.erase(it);
                for (size_t i = 0; i < n; ++i) {
                    moved[s.columns[i]] = row[i];
                }
                t.rows[key_of(t, s.columns, row)] = std::move(moved);
            }
            return;
        }
        case FakeStatement::Kind::kDelete: {
            Table& t = tables_.at(s.table);
            for (const auto& row : s.rows) {
                t.rows.erase(key_of(t, s.columns, row));
            }
            return;
        }
        case FakeStatement::Kind::kOther:
            return;
    }
}

std::optional<FakeDatabase::CommitFault> FakeDatabase::commit(
    const std::vector<FakeStatement>& statements) {
    std::lock_guard lock(mu_);
    std::optional<bool> breaks = std::exchange(break_commit_, std::nullopt);
    if (breaks && !*breaks) {
        return break_how_;  // it fails before the server committed
    }
    for (const FakeStatement& s : statements) {
        apply(s);
    }
    ++commits_;
    if (breaks) {
        return break_how_;
    }
    return std::nullopt;
}

void FakeSession::connect() {
    connected_ = true;
    ++connects_;
    in_txn_ = false;
    aborted_ = false;
    pending_.clear();
}

void FakeSession::ensure_connected() {
    if (!connected_ && connects_ == 0) {
        connect();  // a session connects on first use
    }
    if (!connected_) {
        throw Error(ErrorKind::kRetryable, "the connection to the fake target was lost");
    }
}

void FakeSession::ensure_free() const {
    if (pipelines_unanswered() > 0 && !sending_) {
        throw Error(ErrorKind::kFatal,
                    "fake target: a statement was sent while pipelines await their answers");
    }
}

void FakeSession::send_pipeline(const std::vector<PipelineCall>& calls) {
    sending_ = true;
    TargetSession::send_pipeline(calls);
    sending_ = false;
}

void FakeSession::execute(const std::string& sql, const Params& params) {
    ensure_free();
    ensure_connected();
    run(sql, params);
}

void FakeSession::run(const std::string& sql,
                      const std::vector<std::optional<std::string>>& values) {
    if (sql == "BEGIN") {
        in_txn_ = true;
        aborted_ = false;
        pending_.clear();
        return;
    }
    if (sql == "ROLLBACK") {
        if (!in_txn_) {
            // As CockroachDB answers (PostgreSQL only warns): the stricter of the two.
            throw Error(ErrorKind::kFatal, "there is no transaction in progress", "25P01");
        }
        in_txn_ = false;
        aborted_ = false;
        pending_.clear();
        return;
    }
    if (sql == "COMMIT") {
        bool was_open = in_txn_ && !aborted_;
        in_txn_ = false;
        aborted_ = false;
        std::vector<FakeStatement> statements = std::move(pending_);
        pending_.clear();
        if (!was_open) {
            return;
        }
        auto fault = db_.commit(statements);
        if (fault == FakeDatabase::CommitFault::kConnectionLost) {
            connected_ = false;
            throw Error(ErrorKind::kRetryable,
                        "server closed the connection unexpectedly (connection lost)");
        }
        if (fault == FakeDatabase::CommitFault::kAmbiguousResult) {
            throw Error(ErrorKind::kRetryable, "result is ambiguous (error=rpc error)", "40003");
        }
        if (fault == FakeDatabase::CommitFault::kGarbled) {
            throw Error(ErrorKind::kFatal, "lost synchronization with server");
        }
        if (fault == FakeDatabase::CommitFault::kTerminated) {
            throw Error(ErrorKind::kRetryable,
                        "FATAL:  terminating connection due to administrator command", "57P01");
        }
        return;
    }
    if (aborted_) {
        throw Error(ErrorKind::kFatal,
                    "current transaction is aborted, commands ignored until end of transaction "
                    "block",
                    "25P02");
    }
    if (sql.find(staging::Memo::kChainBroken) != std::string::npos) {
        // Memo::guard_sql(): fails unless the committed memo row $1 holds $2.
        std::lock_guard lock(db_.mu_);
        auto it = db_.memo_.find(values.at(0).value_or(""));
        if (it == db_.memo_.end() || it->second != values.at(1).value_or("")) {
            aborted_ = in_txn_;
            throw Error(ErrorKind::kFatal,
                        std::string("invalid input syntax for type integer: \"") +
                            staging::Memo::kChainBroken + "\"",
                        "22P02");
        }
        return;
    }
    FakeStatement s = parse(sql, values);
    if (s.kind != FakeStatement::Kind::kOther) {
        if (auto e = db_.check(s)) {
            aborted_ = in_txn_;
            if (e->retryable() && e->sqlstate().rfind("08", 0) == 0) {
                connected_ = false;
            }
            throw *e;
        }
    }
    if (in_txn_) {
        pending_.push_back(std::move(s));
    } else if (s.kind != FakeStatement::Kind::kOther) {
        db_.commit({std::move(s)});  // autocommit
    }
}

std::vector<util::TargetSession::Row> FakeSession::query(const std::string& sql,
                                                         const Params& params) {
    ensure_free();
    ensure_connected();
    std::vector<Row> rows;
    if (sql.find("convert_from(value, 'UTF8') FROM") == std::string::npos || params.empty()) {
        return rows;
    }
    std::lock_guard lock(db_.mu_);
    if (sql.find("WHERE key = $1") != std::string::npos) {
        auto it = db_.memo_.find(params[0].value_or(""));
        if (it != db_.memo_.end()) {
            rows.push_back({it->second});
        }
    } else if (sql.find("substr(key") != std::string::npos) {
        const std::string prefix = params[0].value_or("");
        for (const auto& [k, v] : db_.memo_) {
            if (k.rfind(prefix, 0) == 0) {
                rows.push_back({k, v});
            }
        }
    }
    return rows;
}

void FakeSession::exec_pipeline(const std::vector<PipelineCall>& calls, size_t* failed) {
    ensure_free();
    ensure_connected();
    ++pipelines_;
    for (size_t i = 0; i < calls.size(); ++i) {
        std::vector<std::optional<std::string>> values;
        for (const char* v : calls[i].values) {
            values.push_back(v != nullptr ? std::optional<std::string>(v) : std::nullopt);
        }
        try {
            run(*calls[i].sql, values);
        } catch (const Error&) {
            *failed = i;
            throw;
        }
    }
}

}  // namespace rep::testing
