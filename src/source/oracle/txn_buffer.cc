#include "source/oracle/txn_buffer.h"

#include "base/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace rep::oracle {
namespace {

constexpr int kInsert = 1;
constexpr int kDelete = 2;
constexpr int kUpdate = 3;
constexpr int kCommit = 7;
constexpr int kRollback = 36;

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool valid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80           ? 1
                     : (c >> 5) == 0x6  ? 2
                     : (c >> 4) == 0xE  ? 3
                     : (c >> 3) == 0x1E ? 4
                                        : 0;
        if (len == 0 || i + len > s.size()) {
            return false;
        }
        uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
        for (size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc >> 6) != 0x2) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
            return false;
        }
        i += len;
    }
    return true;
}

bool unresolved(const std::string& xid) {
    if (xid.size() != 16) {
        return false;
    }
    return std::all_of(xid.begin() + 8, xid.end(), [](char c) { return c == 'f' || c == 'F'; });
}

}  // namespace

std::optional<MinedRow> CsfJoiner::push(MinedRow row, bool csf) {
    if (open_) {
        open_->sql_redo += row.sql_redo;
    } else {
        open_ = std::move(row);
    }
    if (csf) {
        return std::nullopt;
    }
    MinedRow done = std::move(*open_);
    open_.reset();
    if (!valid_utf8(done.sql_redo)) {
        throw fatal(
            fmt::format("SQL_REDO of transaction {} at SCN {} is not valid UTF-8 once its "
                        "continuation rows are joined",
                        done.xid, done.scn));
    }
    return done;
}

void CsfJoiner::finish() {
    if (open_) {
        MinedRow row = std::move(*open_);
        open_.reset();
        throw Error(ErrorKind::kRetryable,
                    fmt::format("the LogMiner cursor ended inside a continued SQL_REDO "
                                "(transaction {}, SCN {}); reading the window again",
                                row.xid, row.scn));
    }
}

void TxnBuffer::begin_window() {
    sizes_.clear();
    created_.clear();
    pending_.clear();
}

TxnBuffer::Txn* TxnBuffer::find(const std::string& xid, std::string* found) {
    if (auto it = txns_.find(xid); it != txns_.end()) {
        *found = xid;
        return &it->second;
    }
    if (!unresolved(xid)) {
        return nullptr;
    }
    Txn* match = nullptr;
    size_t matches = 0;
    for (auto& [key, txn] : txns_) {
        if (key.compare(0, 8, xid, 0, 8) == 0) {
            match = &txn;
            *found = key;
            ++matches;
        }
    }
    if (matches > 1) {
        // Applying the rows such an undo row cancels, or cancelling another transaction's,
        // would both alter data silently: stop instead.
        throw fatal(fmt::format(
            "LogMiner reports an undo row or rollback of transaction {} (sequence unresolved), "
            "and {} buffered transactions share its undo segment and slot {}; which one it "
            "belongs to cannot be told. Mining from an SCN before the transaction began (a "
            "restart from an older checkpoint) resolves it",
            xid, matches, xid.substr(0, 8)));
    }
    return match;
}

void TxnBuffer::add(const MinedRow& row) {
    if (skip_.contains(row.xid)) {
        return;  // committed before the restart: its rows, undo rows and COMMIT alike
    }
    switch (row.op) {
        case kInsert:
        case kDelete:
        case kUpdate: {
            if (row.rollback) {
                std::string xid;
                if (Txn* txn = find(row.xid, &xid)) {
                    push(xid, *txn, {row.scn, row.row_id, row.table, {}, true});
                }
                return;
            }
            if (row.sql_redo.empty()) {
                return;  // a non-final row of a multi-record set
            }
            auto it = txns_.find(row.xid);
            if (it == txns_.end()) {
                it = txns_.emplace(row.xid, Txn{row.scn, {}}).first;
                created_.insert(row.xid);
                pending_.push_back({TxnAction::Kind::kRegister, row.xid, row.scn, 0, {}});
            }
            push(row.xid, it->second, {row.scn, row.row_id, row.table, row.sql_redo, false});
            return;
        }
        case kCommit:
            if (txns_.contains(row.xid)) {
                pending_.push_back(
                    {TxnAction::Kind::kCommit, row.xid, 0, row.scn, {}, true, row.timestamp});
            }
            return;  // a transaction with no DML on the schema, or an empty thread-0 COMMIT
        case kRollback: {
            std::string xid;
            if (find(row.xid, &xid) != nullptr) {
                pending_.push_back({TxnAction::Kind::kRollback, xid, 0, 0, {}});
            }
            return;
        }
        default:
            return;
    }
}

void TxnBuffer::push(const std::string& xid, Txn& txn, TxnEvent event) {
    if (!created_.contains(xid) && !sizes_.contains(xid)) {
        sizes_.emplace(xid, txn.events.size());
    }
    memory_ += event.bytes();
    txn.events.push(std::move(event));
    maybe_spill();
}

void TxnBuffer::maybe_spill() {
    if (spill_.dir.empty() || memory_ <= spill_.memory_limit || memory_ < next_check_) {
        return;
    }
    const size_t floor = std::max<size_t>(spill_.memory_limit / 64, 1);
    std::vector<std::pair<size_t, Txn*>> big;
    for (auto& [xid, txn] : txns_) {
        if (txn.events.memory_bytes() >= floor) {
            big.emplace_back(txn.events.memory_bytes(), &txn);
        }
    }
    std::sort(big.begin(), big.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    for (auto& [bytes, txn] : big) {
        if (memory_ <= spill_.memory_limit / 2) {
            break;
        }
        bool first = !txn->events.spilled();
        txn->events.spill(spill_.dir);
        memory_ -= bytes;
        if (first) {
            spdlog::info(
                "an open transaction (started at SCN {}) holds {} events: moved to a file "
                "in {} (--transactionBufferBytes {})",
                txn->start_scn, txn->events.size(), spill_.dir.string(), spill_.memory_limit);
        }
    }
    // Over the limit with nothing large enough left to move: look again only once memory has
    // grown by as much, not at every row.
    next_check_ = memory_ > spill_.memory_limit / 2 ? memory_ + floor : 0;
}

void TxnBuffer::recount() {
    next_check_ = 0;
    memory_ = 0;
    for (const auto& [xid, txn] : txns_) {
        memory_ += txn.events.memory_bytes();
    }
}

size_t TxnBuffer::spilled() const {
    size_t n = 0;
    for (const auto& [xid, txn] : txns_) {
        n += txn.events.spilled() ? 1 : 0;
    }
    return n;
}

std::vector<TxnAction> TxnBuffer::end_window() {
    std::vector<TxnAction> out;
    for (TxnAction& a : pending_) {
        if (a.kind == TxnAction::Kind::kRegister) {
            out.push_back(std::move(a));
            continue;
        }
        auto it = txns_.find(a.xid);
        if (it == txns_.end()) {
            continue;  // ended earlier in the window
        }
        a.start_scn = it->second.start_scn;
        if (a.kind == TxnAction::Kind::kCommit) {
            a.events = LiveEvents(std::move(it->second.events));
        }
        txns_.erase(it);
        out.push_back(std::move(a));
    }
    begin_window();
    recount();
    return out;
}

void TxnBuffer::abort_window() {
    for (const std::string& xid : created_) {
        txns_.erase(xid);
    }
    for (const auto& [xid, size] : sizes_) {
        if (auto it = txns_.find(xid); it != txns_.end()) {
            it->second.events.truncate(size);
        }
    }
    begin_window();
    recount();
}

}  // namespace rep::oracle
