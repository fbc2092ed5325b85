#include "sim_logminer.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace rep::oracle::sim {
namespace {

constexpr uint64_t kOpenEnded = std::numeric_limits<uint64_t>::max();

LogFile view_row(const LogState& l, bool archived) {
    LogFile f;
    f.name = archived ? l.archived_name() : l.online_name();
    f.thread = l.thread;
    f.sequence = l.sequence;
    f.first_scn = l.first_scn;
    f.next_scn = l.next_scn.value_or(kOpenEnded);
    f.archived = archived;
    f.current = !archived && !l.next_scn;
    f.deleted = archived && l.purged;
    return f;
}

bool overlaps(const LogState& l, uint64_t lo, uint64_t hi) {
    return l.first_scn <= hi && (!l.next_scn || *l.next_scn > lo);
}

class VectorCursor final : public ContentsCursor {
public:
    VectorCursor(std::vector<ContentsRow> rows, size_t fail_after)
        : rows_(std::move(rows)), fail_after_(fail_after) {}

    bool fetch(std::vector<ContentsRow>& out, size_t max_rows) override {
        for (size_t n = 0; n < max_rows && next_ < rows_.size(); ++n) {
            if (fail_after_ != 0 && next_ == fail_after_) {
                throw Error(ErrorKind::kRetryable,
                            "ORA-01368: the online log was overwritten while being read");
            }
            out.push_back(rows_[next_++]);
        }
        return next_ < rows_.size();
    }

private:
    std::vector<ContentsRow> rows_;
    size_t next_ = 0;
    size_t fail_after_;
};

}  // namespace

std::vector<LogFile> SimLogMiner::online_logs(uint64_t lo, uint64_t hi) {
    std::vector<LogFile> out;
    for (const LogState& l : db_.logs()) {
        if (l.online && overlaps(l, lo, hi)) {
            out.push_back(view_row(l, false));
        }
    }
    return out;
}

std::vector<LogFile> SimLogMiner::archived_logs(uint64_t lo, uint64_t hi) {
    std::vector<LogFile> out;
    for (const LogState& l : db_.logs()) {
        if (l.archived && overlaps(l, lo, hi)) {
            out.push_back(view_row(l, true));
        }
    }
    return out;
}

void SimLogMiner::add_logfile(const std::string& name, bool first) {
    if (first) {
        files_.clear();
        names_.clear();
        started_ = false;
        ++sessions_;
    }
    if (std::find(names_.begin(), names_.end(), name) != names_.end()) {
        throw fatal("ORA-01289: cannot add duplicate logfile " + name);
    }
    // An archived name says its thread and sequence: compare numbers first, so that a long
    // history of logs costs no formatting.
    int thread = 0;
    unsigned long long sequence = 0;
    bool archived_form =
        std::sscanf(name.c_str(), "/u01/arch/t%d_s%llu.arc", &thread, &sequence) == 2;
    for (const LogState& l : db_.logs()) {
        if (archived_form && (l.thread != thread || l.sequence != sequence)) {
            continue;
        }
        if ((l.online && l.online_name() == name) ||
            (l.archived && !l.purged && l.archived_name() == name)) {
            files_.emplace_back(l.thread, l.sequence);
            names_.push_back(name);
            return;
        }
    }
    throw fatal("ORA-01284: file " + name + " cannot be opened");
}

std::vector<LogFile> SimLogMiner::session_logs() {
    std::vector<LogFile> out;
    for (size_t i = 0; i < files_.size(); ++i) {
        for (const LogState& l : db_.logs()) {
            if (l.thread == files_[i].first && l.sequence == files_[i].second) {
                LogFile f = view_row(l, names_[i] != l.online_name());
                f.name = names_[i];
                out.push_back(f);
            }
        }
    }
    return out;
}

void SimLogMiner::start(uint64_t lo, uint64_t hi) {
    if (files_.empty()) {
        throw fatal("ORA-01292: no log file has been specified for the current LogMiner session");
    }
    started_ = true;
    lo_ = lo;
    hi_ = hi;
}

void SimLogMiner::end() {
    files_.clear();
    names_.clear();
    started_ = false;
}

std::unique_ptr<ContentsCursor> SimLogMiner::contents(const ContentsQuery& query) {
    if (!started_) {
        throw fatal(
            "ORA-01306: DBMS_LOGMNR.START_LOGMNR() must be invoked before selecting "
            "from v$logmnr_contents");
    }
    if (query.lo != lo_ || query.hi != hi_) {
        throw std::logic_error("sim: contents query outside the started range");
    }
    ++queries_;
    // A file added as online must still hold the same sequence.
    for (size_t i = 0; i < files_.size(); ++i) {
        for (const LogState& l : db_.logs()) {
            if (l.thread == files_[i].first && l.sequence == files_[i].second && !l.online &&
                names_[i] == l.online_name()) {
                throw Error(ErrorKind::kRetryable, "ORA-00310: archived log contains sequence " +
                                                       std::to_string(l.sequence + 3) +
                                                       "; sequence " + std::to_string(l.sequence) +
                                                       " required");
            }
        }
    }
    std::vector<ContentsRow> rows = render(query);
    size_t fail_after = std::exchange(faults_.fail_after_rows, 0);
    if (fail_after >= rows.size()) {
        fail_after = 0;
    }
    return std::make_unique<VectorCursor>(std::move(rows), fail_after);
}

std::vector<ContentsRow> SimLogMiner::render(const ContentsQuery& query) {
    std::vector<const Record*> records;
    for (const auto& [thread, sequence] : files_) {
        for (const Record* r : db_.records(thread, sequence)) {
            if (r->scn >= lo_ && r->scn <= hi_) {
                records.push_back(r);
            }
        }
    }
    std::sort(records.begin(), records.end(), [](const Record* a, const Record* b) {
        return a->scn != b->scn ? a->scn < b->scn : a->order < b->order;
    });
    std::vector<ContentsRow> out;
    if (std::exchange(faults_.missing_scn, false)) {
        ContentsRow gap;
        gap.scn = lo_;
        gap.op = kOpMissingScn;
        gap.thread = 1;
        out.push_back(gap);
    }
    for (const Record* r : records) {
        bool control = r->op == kOpCommit || r->op == kOpRollback;
        if ((!control && r->owner != query.schema) || (query.pdb && *query.pdb != kPdb)) {
            continue;  // the whole database is one PDB
        }
        ContentsRow row;
        row.scn = r->scn;
        row.xid = r->xid;
        if ((r->rollback || r->op == kOpRollback) && r->txn_first_scn < lo_) {
            row.xid = r->xid.substr(0, 8) + "FFFFFFFF";  // began before STARTSCN
        }
        row.op = r->op;
        row.rollback = r->rollback;
        row.thread = r->thread;
        row.seg_owner = r->owner;
        row.table = r->table;
        row.row_id = r->row_id;
        row.rs_id = fmt::format(" 0x{:06x}.{:08x}.0010 ", r->sequence, r->order);
        row.timestamp = db_time_text(r->time_s);
        row.src_con_name = kPdb;
        if (!control && rng_() % 5 == 0) {
            ContentsRow empty = row;  // a non-final row of the record set: no SQL_REDO
            out.push_back(empty);
        }
        const std::string& sql = r->sql_redo;
        size_t at = 0;
        while (sql.size() - at > csf_limit_) {
            size_t piece = 1 + rng_() % csf_limit_;
            ContentsRow part = row;
            part.sql_redo = sql.substr(at, piece);
            part.csf = true;
            out.push_back(std::move(part));
            at += piece;
        }
        row.sql_redo = sql.substr(at);
        out.push_back(std::move(row));
    }
    return out;
}

}  // namespace rep::oracle::sim
