#pragma once

#include "source/oracle/logminer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace rep::oracle {

// The log files a LogMiner session needs for the window [lo, hi] (reference §1.2), or why
// they cannot be chosen yet.
struct LogSelection {
    // Ordered by thread, then sequence; one file per (thread, sequence).
    std::vector<LogFile> files;
    // Non-empty when the set is not complete yet and the window must wait (the archiver has
    // not caught up with a log switch): what is missing, for the log.
    std::string wait;
};

// Chooses the files from V$THREAD and the two log views:
//  - one file per (thread, sequence): the archived copy when there is one (it is complete and
//    never overwritten), else the online log;
//  - every enabled thread must have a contiguous run of sequences covering [lo, hi]: from
//    a file holding lo (or the thread's first redo, if it was enabled after lo) up to a file
//    holding hi, for an open thread (a closed thread has no redo past its last log);
//    a gap or a missing end means the archiver is behind: `wait` says which;
//  - an archived log whose file is gone (STATUS 'D') with no online copy left is fatal: the
//    redo is lost to LogMiner, and the error says how to keep logs long enough.
// Throws rep::Error (fatal) for that.
LogSelection select_logs(uint64_t lo, uint64_t hi, const std::vector<RedoThread>& threads,
                         const std::vector<LogFile>& online, const std::vector<LogFile>& archived);

// Whether two selections name the same files and sequences (the session need not be rebuilt).
bool same_files(const std::vector<LogFile>& a, const std::vector<LogFile>& b);

}  // namespace rep::oracle
