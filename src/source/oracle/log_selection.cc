#include "source/oracle/log_selection.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

namespace rep::oracle {
namespace {

// Whether `f` may hold redo in [lo, hi]: FIRST_CHANGE# is inclusive, NEXT_CHANGE# exclusive,
// and the CURRENT online log is open-ended.
bool overlaps(const LogFile& f, uint64_t lo, uint64_t hi) {
    return f.first_scn <= hi && (f.current || f.next_scn > lo);
}

bool holds(const LogFile& f, uint64_t scn) {
    return f.first_scn <= scn && (f.current || f.next_scn > scn);
}

}  // namespace

LogSelection select_logs(uint64_t lo, uint64_t hi, const std::vector<RedoThread>& threads,
                         const std::vector<LogFile>& online, const std::vector<LogFile>& archived) {
    // (thread, sequence) -> the file to use. Archived copies win; an online log is used only
    // for a sequence with no archived copy (not archived yet, or the current log).
    std::map<std::pair<int, uint64_t>, LogFile> chosen;
    std::map<std::pair<int, uint64_t>, const LogFile*> deleted;
    for (const LogFile& f : archived) {
        if (!overlaps(f, lo, hi)) {
            continue;
        }
        if (f.deleted) {
            deleted.emplace(std::make_pair(f.thread, f.sequence), &f);
        } else {
            chosen.emplace(std::make_pair(f.thread, f.sequence), f);
        }
    }
    for (const LogFile& f : online) {
        if (overlaps(f, lo, hi)) {
            chosen.emplace(std::make_pair(f.thread, f.sequence), f);  // keeps an archived copy
        }
    }
    for (const auto& [key, f] : deleted) {
        if (!chosen.contains(key)) {
            throw fatal(fmt::format(
                "archived redo log {} (thread {}, sequence {}, SCN {} to {}) has been deleted, "
                "and the replicator still needs it to mine from SCN {}: the changes in it are "
                "lost to LogMiner. Keep archived logs at least back to the restart SCN (RMAN "
                "retention, or the archive deletion policy), then take a new snapshot and "
                "start again from its SCN",
                f->name, f->thread, f->sequence, f->first_scn, f->next_scn, lo));
        }
    }

    LogSelection out;
    for (const RedoThread& t : threads) {
        if (!t.enabled) {
            continue;
        }
        std::vector<const LogFile*> files;
        for (const auto& [key, f] : chosen) {
            if (key.first == t.thread) {
                files.push_back(&f);  // ordered by sequence: the map's order
            }
        }
        uint64_t from = std::max(lo, t.enabled_scn);
        if (from > hi) {
            continue;  // enabled after the window: nothing of it to mine
        }
        if (files.empty() || !holds(*files.front(), from)) {
            out.wait = fmt::format("no redo log of thread {} holds SCN {} yet", t.thread, from);
            return out;
        }
        for (size_t i = 1; i < files.size(); ++i) {
            if (files[i]->sequence != files[i - 1]->sequence + 1) {
                out.wait = fmt::format("thread {} has no log of sequence {} yet", t.thread,
                                       files[i - 1]->sequence + 1);
                return out;
            }
        }
        if (t.open && !holds(*files.back(), hi)) {
            out.wait = fmt::format(
                "no redo log of thread {} holds SCN {} yet (sequence {} ends "
                "at {})",
                t.thread, hi, files.back()->sequence, files.back()->next_scn);
            return out;
        }
        for (const LogFile* f : files) {
            out.files.push_back(*f);
        }
    }
    return out;
}

bool same_files(const std::vector<LogFile>& a, const std::vector<LogFile>& b) {
    return std::equal(
        a.begin(), a.end(), b.begin(), b.end(), [](const LogFile& x, const LogFile& y) {
            // An online log's file is reused by later sequences of its group.
            return x.name == y.name && x.thread == y.thread && x.sequence == y.sequence;
        });
}

}  // namespace rep::oracle
