// Choosing LogMiner's files for a window (reference §1.2), and the window loop's handling of
// rows it must refuse or read again, against a scripted LogMiner.

#include "base/error.h"
#include "source/oracle/log_selection.h"
#include "source/oracle/window_reader.h"

#include <gtest/gtest.h>

#include <limits>

namespace rep::oracle {
namespace {

constexpr uint64_t kOpen = std::numeric_limits<uint64_t>::max();

LogFile log(int thread, uint64_t seq, uint64_t first, uint64_t next, bool archived,
            bool deleted = false) {
    LogFile f;
    f.name = (archived ? "/arch/" : "/redo/") + std::to_string(thread) + "_" + std::to_string(seq);
    f.thread = thread;
    f.sequence = seq;
    f.first_scn = first;
    f.next_scn = next;
    f.archived = archived;
    f.current = !archived && next == kOpen;
    f.deleted = deleted;
    return f;
}

RedoThread thread(int n, uint64_t last_redo = 10000, uint64_t enabled = 0) {
    return RedoThread{n, true, true, enabled, last_redo};
}

std::vector<std::string> names(const LogSelection& s) {
    std::vector<std::string> out;
    for (const LogFile& f : s.files) {
        out.push_back(f.name);
    }
    return out;
}

TEST(OracleLogSelection, ArchivedCopyPreferredOneFilePerSequence) {
    LogSelection s = select_logs(
        150, 450, {thread(1)},
        {log(1, 2, 100, 200, false), log(1, 3, 200, 300, false), log(1, 4, 300, kOpen, false)},
        {log(1, 1, 0, 100, true), log(1, 2, 100, 200, true)});
    EXPECT_EQ(s.wait, "");
    EXPECT_EQ(names(s), (std::vector<std::string>{"/arch/1_2", "/redo/1_3", "/redo/1_4"}));
}

TEST(OracleLogSelection, GapsAndMissingEndsWaitForTheArchiver) {
    // Sequence 3 was overwritten online and is not archived yet.
    LogSelection gap = select_logs(150, 450, {thread(1)}, {log(1, 4, 300, kOpen, false)},
                                   {log(1, 2, 100, 200, true)});
    EXPECT_EQ(gap.wait, "thread 1 has no log of sequence 3 yet");
    EXPECT_TRUE(gap.files.empty());
    LogSelection start = select_logs(150, 450, {thread(1)}, {log(1, 4, 300, kOpen, false)}, {});
    EXPECT_EQ(start.wait, "no redo log of thread 1 holds SCN 150 yet");
    LogSelection end = select_logs(150, 450, {thread(1)}, {}, {log(1, 2, 100, 300, true)});
    EXPECT_EQ(end.wait, "no redo log of thread 1 holds SCN 450 yet (sequence 2 ends at 300)");
}

TEST(OracleLogSelection, DeletedArchivedLogIsFatalUnlessStillOnline) {
    try {
        select_logs(150, 450, {thread(1)}, {log(1, 3, 200, kOpen, false)},
                    {log(1, 2, 100, 200, true, true)});
        FAIL() << "a purged log was accepted";
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("archived redo log /arch/1_2 (thread 1, sequence 2"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("from SCN 150"), std::string::npos) << e.what();
    }
    LogSelection s = select_logs(150, 450, {thread(1)},
                                 {log(1, 2, 100, 200, false), log(1, 3, 200, kOpen, false)},
                                 {log(1, 2, 100, 200, true, true)});
    EXPECT_EQ(names(s), (std::vector<std::string>{"/redo/1_2", "/redo/1_3"}));
}

TEST(OracleLogSelection, RacThreadsEachCoverTheWindow) {
    std::vector<LogFile> online{log(1, 7, 100, kOpen, false), log(2, 3, 90, 140, false),
                                log(2, 4, 140, kOpen, false)};
    LogSelection s = select_logs(120, 200, {thread(1), thread(2)}, online, {});
    EXPECT_EQ(names(s), (std::vector<std::string>{"/redo/1_7", "/redo/2_3", "/redo/2_4"}));
    // A thread enabled after the window has nothing to add; one enabled inside it is needed
    // from its first redo only.
    LogSelection later = select_logs(120, 200, {thread(1), thread(3, 10000, 500)}, online, {});
    EXPECT_EQ(names(later), (std::vector<std::string>{"/redo/1_7"}));
    LogSelection inside =
        select_logs(120, 200, {thread(1), thread(3, 10000, 150)},
                    {log(1, 7, 100, kOpen, false), log(3, 1, 150, kOpen, false)}, {});
    EXPECT_EQ(names(inside), (std::vector<std::string>{"/redo/1_7", "/redo/3_1"}));
    // A closed thread's last log may end before the window does.
    RedoThread closed = thread(2);
    closed.open = false;
    LogSelection done = select_logs(120, 200, {thread(1), closed}, {log(1, 7, 100, kOpen, false)},
                                    {log(2, 3, 90, 140, true)});
    EXPECT_EQ(names(done), (std::vector<std::string>{"/redo/1_7", "/arch/2_3"}));
}

TEST(OracleLogSelection, SameFilesComparesSequencesOfReusedOnlineFiles) {
    LogFile a = log(1, 4, 300, kOpen, false);
    LogFile b = a;
    EXPECT_TRUE(same_files({a}, {b}));
    b.sequence = 7;  // the same group's file, overwritten by a later log
    EXPECT_FALSE(same_files({a}, {b}));
    EXPECT_FALSE(same_files({a}, {a, a}));
}

// A LogMiner with one thread, one current log and a scripted contents query.
class ScriptedMiner final : public LogMiner {
public:
    std::vector<ContentsRow> rows;
    uint64_t scn = 1000;
    uint64_t last_redo = 1000;
    std::vector<std::pair<uint64_t, uint64_t>> started;

    uint64_t current_scn() override { return scn; }
    std::vector<RedoThread> threads() override { return {thread(1, last_redo)}; }
    std::vector<LogFile> online_logs(uint64_t, uint64_t) override {
        return {log(1, 1, 1, kOpen, false)};
    }
    std::vector<LogFile> archived_logs(uint64_t, uint64_t) override { return {}; }
    void add_logfile(const std::string&, bool) override {}
    std::vector<LogFile> session_logs() override { return held; }
    std::vector<LogFile> held{log(1, 1, 1, kOpen, false)};
    void start(uint64_t lo, uint64_t hi) override { started.emplace_back(lo, hi); }
    void end() override {}
    std::unique_ptr<ContentsCursor> contents(const ContentsQuery& q) override {
        class Cursor final : public ContentsCursor {
        public:
            explicit Cursor(std::vector<ContentsRow> rows) : rows_(std::move(rows)) {}
            bool fetch(std::vector<ContentsRow>& out, size_t) override {
                out = rows_;
                return false;
            }

        private:
            std::vector<ContentsRow> rows_;
        };
        std::vector<ContentsRow> in;
        for (const ContentsRow& r : rows) {
            if (r.scn >= q.lo && r.scn <= q.hi) {
                in.push_back(r);
            }
        }
        return std::make_unique<Cursor>(in);
    }
};

ContentsRow row(uint64_t scn, int op, const std::string& table, const std::string& sql = "") {
    ContentsRow r;
    r.scn = scn;
    r.xid = "0A001B00C0000000";
    r.op = op;
    r.seg_owner = "APP";
    r.table = table;
    r.sql_redo = sql;
    r.row_id = "AAAR3sAAEAAAACXAAA";
    return r;
}

std::string error_of(WindowReader& reader) {
    try {
        reader.next();
    } catch (const Error& e) {
        return std::string(e.retryable() ? "retryable: " : "fatal: ") + e.what();
    }
    return "";
}

TEST(OracleWindowReader, RowsItCannotApplyAreNamedErrors) {
    ReaderOptions options;
    options.schema = "APP";
    options.tables = {"T"};
    ScriptedMiner miner;
    ContentsRow bad = row(200, kOpInsert, "T", "insert into \"UNKNOWN\".\"OBJ# 74858\"...");
    bad.status = 2;
    bad.info = "Dictionary Mismatch";
    miner.rows = {bad};
    WindowReader mismatch(miner, options, Resume{150, {}});
    EXPECT_EQ(error_of(mismatch).rfind("fatal: LogMiner could not translate a change of APP.T at "
                                       "SCN 200 (transaction 0A001B00C0000000): Dictionary "
                                       "Mismatch.",
                                       0),
              0U);
    // STATUS 2 without INFO is a benign quirk; other tables' trouble is not ours.
    bad.info.clear();
    bad.sql_redo = "insert into \"APP\".\"T\"(\"ID\") values ('1');";
    ContentsRow other = row(210, kOpUnsupported, "U");
    miner.rows = {bad, other, row(220, kOpCommit, "")};
    WindowReader fine(miner, options, Resume{150, {}});
    std::optional<Window> w = fine.next();
    ASSERT_TRUE(w);
    ASSERT_EQ(w->actions.size(), 2U);
    EXPECT_EQ(w->actions[1].events.to_vector().at(0).sql_redo, bad.sql_redo);

    miner.rows = {row(200, kOpUnsupported, "T")};
    WindowReader unsupported(miner, options, Resume{150, {}});
    EXPECT_NE(error_of(unsupported)
                  .find("fatal: LogMiner cannot decode a change of APP.T at SCN "
                        "200"),
              std::string::npos);
    miner.rows = {row(200, kOpLobWrite, "T")};
    WindowReader lob(miner, options, Resume{150, {}});
    EXPECT_NE(error_of(lob).find("APP.T has a LOB written out of row at SCN 200"),
              std::string::npos);
}

TEST(OracleWindowReader, MissingRedoIsReadAgainThenFatal) {
    ReaderOptions options;
    options.schema = "APP";
    options.window_size = 100;
    options.max_window_attempts = 3;
    options.gap_retry_delay = std::chrono::milliseconds(0);
    ScriptedMiner miner;
    miner.rows = {row(160, kOpInsert, "T", "insert into \"APP\".\"T\"(\"ID\") values ('1');"),
                  row(170, kOpMissingScn, "")};
    WindowReader reader(miner, options, Resume{150, {}});
    std::string e = error_of(reader);
    EXPECT_EQ(e.rfind("fatal: mining SCN 150 to 249 found missing redo 3 times in a row: "
                      "LogMiner reports missing redo (MISSING_SCN) at SCN 170",
                      0),
              0U)
        << e;
    EXPECT_EQ(miner.started.size(), 3U);
    for (const auto& [lo, hi] : miner.started) {
        EXPECT_EQ(lo, 150U);  // always the same window
        EXPECT_EQ(hi, 249U);
    }
    // Once the redo is readable, the window's transaction arrives once.
    miner.rows.pop_back();
    miner.rows.push_back(row(180, kOpCommit, ""));
    WindowReader again(miner, options, Resume{150, {}});
    std::optional<Window> w = again.next();
    ASSERT_TRUE(w);
    ASSERT_EQ(w->actions.size(), 2U);  // registered, committed: once
    EXPECT_EQ(w->actions[1].events.size(), 1U);
    EXPECT_EQ(again.lo(), 250U);
}

// The online file chosen was reused by a later sequence before ADD_LOGFILE: reading it would
// silently skip the chosen sequence's redo.
TEST(OracleWindowReader, AFileReusedWhileAddedIsChosenAgain) {
    ReaderOptions options;
    options.schema = "APP";
    ScriptedMiner miner;
    miner.held = {log(1, 4, 300, kOpen, false)};
    miner.held[0].name = "/redo/1_1";  // the same file, now holding sequence 4
    WindowReader reader(miner, options, Resume{150, {}});
    EXPECT_EQ(error_of(reader).rfind("retryable: redo log /redo/1_1 no longer holds thread 1 "
                                     "sequence 1",
                                     0),
              0U);
    EXPECT_TRUE(miner.started.empty());  // never mined from the wrong file
    miner.held = {log(1, 1, 1, kOpen, false)};
    EXPECT_EQ(error_of(reader), "");
    EXPECT_EQ(miner.started.size(), 1U);
}

TEST(OracleWindowReader, WaitsBelowTheFlushedRedo) {
    ReaderOptions options;
    options.schema = "APP";
    ScriptedMiner miner;
    miner.scn = 5000;
    miner.last_redo = 151;  // redo above 150 may not be written yet
    WindowReader reader(miner, options, Resume{150, {}});
    std::optional<Window> w = reader.next();
    ASSERT_TRUE(w);
    EXPECT_EQ(w->hi, 150U);
    EXPECT_FALSE(reader.next());  // idle: nothing new is safe to read
    EXPECT_EQ(reader.waiting(), "");
    miner.last_redo = 400;
    w = reader.next();
    ASSERT_TRUE(w);
    EXPECT_EQ(w->lo, 151U);
    EXPECT_EQ(w->hi, 399U);
}

}  // namespace
}  // namespace rep::oracle
