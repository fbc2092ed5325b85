#include "source/oracle/window_reader.h"

#include "base/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <thread>
#include <utility>

namespace rep::oracle {
namespace {

// MISSING_SCN: a gap in the redo LogMiner read; the window is read again in place.
struct RedoGap : Error {
    explicit RedoGap(const std::string& message) : Error(ErrorKind::kRetryable, message) {}
};

}  // namespace

WindowReader::WindowReader(LogMiner& miner, ReaderOptions options, const Resume& resume)
    : miner_(miner),
      options_(std::move(options)),
      buffer_(resume.skip, options_.spill),
      lo_(resume.restart_scn) {}

bool WindowReader::replicated(const std::string& table) const {
    return options_.tables.empty() || options_.tables.contains(table);
}

std::optional<Window> WindowReader::next() {
    current_scn_ = miner_.current_scn();
    std::vector<RedoThread> threads = miner_.threads();
    std::vector<uint64_t> last_redo;
    for (const RedoThread& t : threads) {
        if (t.enabled && t.open) {
            last_redo.push_back(t.last_redo_scn);
        }
    }
    std::optional<uint64_t> hi = window_end(lo_, options_.window_size, current_scn_, last_redo);
    if (!hi) {
        waiting_.clear();
        return std::nullopt;
    }
    LogSelection logs = select_logs(lo_, *hi, threads, miner_.online_logs(lo_, *hi),
                                    miner_.archived_logs(lo_, *hi));
    waiting_ = logs.wait;
    if (!waiting_.empty()) {
        return std::nullopt;
    }

    Window window;
    window.lo = lo_;
    window.hi = *hi;
    for (int gaps = 0;;) {
        buffer_.begin_window();
        try {
            if (!same_files(session_files_, logs.files)) {
                // A log switch, an archived copy replacing an online log, or the window
                // moving past a log: the session is rebuilt over the new list (OPTIONS => NEW
                // ends the old session).
                session_files_.clear();
                for (size_t i = 0; i < logs.files.size(); ++i) {
                    miner_.add_logfile(logs.files[i].name, i == 0);
                }
                check_session(logs.files);
                session_files_ = logs.files;
            }
            auto started = std::chrono::steady_clock::now();
            miner_.start(lo_, *hi);
            window.rows = 0;
            read_window(*hi, window);
            window.query_seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            break;
        } catch (const RedoGap& e) {
            rollback_window();
            if (++gaps >= options_.max_window_attempts) {
                throw fatal(
                    fmt::format("mining SCN {} to {} found missing redo {} times in a "
                                "row: {}",
                                lo_, *hi, gaps, e.what()));
            }
            std::this_thread::sleep_for(options_.gap_retry_delay);
        } catch (const Error&) {
            rollback_window();
            throw;
        }
    }
    window.actions = buffer_.end_window();
    for (TxnAction& a : window.actions) {
        if (a.kind != TxnAction::Kind::kCommit) {
            continue;
        }
        if ((options_.snapshot_scn && !first_run_applies(a.commit_scn, *options_.snapshot_scn)) ||
            (options_.applied && options_.applied(a.commit_scn, a.xid))) {
            a.apply = false;
            a.events.clear();
        }
    }
    lo_ = *hi + 1;
    return window;
}

void WindowReader::rollback_window() {
    buffer_.abort_window();
    joiner_ = CsfJoiner();
    session_files_.clear();  // rebuild the session: a log may have been overwritten
}

void WindowReader::check_session(const std::vector<LogFile>& chosen) {
    // An online log can be reused by a later sequence between the log views' answer and
    // ADD_LOGFILE: LogMiner would then read the wrong redo, and the window would silently
    // miss the sequence chosen. What the session holds must be what was chosen.
    std::vector<LogFile> held = miner_.session_logs();
    for (const LogFile& want : chosen) {
        bool found = false;
        for (const LogFile& h : held) {
            found = found ||
                    (h.name == want.name && h.thread == want.thread && h.sequence == want.sequence);
        }
        if (!found) {
            throw Error(ErrorKind::kRetryable,
                        fmt::format("redo log {} no longer holds thread {} sequence {} (it was "
                                    "reused or archived while LogMiner was set up); choosing "
                                    "the files again",
                                    want.name, want.thread, want.sequence));
        }
    }
}

void WindowReader::read_window(uint64_t hi, Window& window) {
    std::unique_ptr<ContentsCursor> cursor =
        miner_.contents(ContentsQuery{lo_, hi, options_.schema, options_.pdb});
    std::vector<ContentsRow> rows;
    bool more = true;
    while (more) {
        rows.clear();
        more = cursor->fetch(rows, options_.fetch_rows);
        window.rows += rows.size();
        for (ContentsRow& row : rows) {
            dispatch(row);
        }
    }
    joiner_.finish();
}

void WindowReader::dispatch(const ContentsRow& row) {
    switch (row.op) {
        case kOpInsert:
        case kOpDelete:
        case kOpUpdate:
            break;
        case kOpCommit:
        case kOpRollback:
            buffer_.add(
                MinedRow{row.scn, row.xid, row.op, false, {}, {}, {}, row.thread, row.timestamp});
            return;
        case kOpMissingScn:
            throw RedoGap(
                fmt::format("LogMiner reports missing redo (MISSING_SCN) at SCN {} "
                            "(thread {})",
                            row.scn, row.thread));
        case kOpDdl:
            if (row.info.rfind("INTERNAL DDL", 0) != 0) {
                spdlog::warn(
                    "DDL on {}.{} at SCN {}: {} (DDL is not replicated; a table created "
                    "now is replicated only after a restart, and redo written before "
                    "the DDL may no longer be translated)",
                    row.seg_owner, row.table, row.scn, row.sql_redo);
            }
            return;
        case kOpSelectLobLocator:
        case kOpLobWrite:
        case kOpLobTrim:
            if (replicated(row.table)) {
                throw fatal(fmt::format(
                    "{}.{} has a LOB written out of row at SCN {} (transaction {}): large LOB "
                    "values (SEL_LOB_LOCATOR, LOB_WRITE, LOB_TRIM) are not replicated; leave the "
                    "table out of the replication",
                    row.seg_owner, row.table, row.scn, row.xid));
            }
            return;
        case kOpUnsupported:
            if (replicated(row.table)) {
                throw fatal(fmt::format(
                    "LogMiner cannot decode a change of {}.{} at SCN {} (transaction {}, "
                    "operation UNSUPPORTED): the table has a column type or storage LogMiner "
                    "does not support; leave the table out of the replication",
                    row.seg_owner, row.table, row.scn, row.xid));
            }
            return;
        default:
            return;
    }
    if (!replicated(row.table)) {
        return;
    }
    std::optional<MinedRow> joined =
        joiner_.push(MinedRow{row.scn, row.xid, row.op, row.rollback, row.row_id, row.table,
                              row.sql_redo, row.thread},
                     row.csf);
    if (!joined) {
        return;
    }
    if (row.status == 2 && !row.info.empty() && !joined->rollback) {
        throw fatal(fmt::format(
            "LogMiner could not translate a change of {}.{} at SCN {} (transaction {}): {}. "
            "The table's definition changed after the redo was written (DDL during "
            "replication is not supported); restore the definition, or take a new snapshot "
            "and start from its SCN",
            row.seg_owner, row.table, row.scn, row.xid, row.info));
    }
    buffer_.add(*joined);
}

}  // namespace rep::oracle
