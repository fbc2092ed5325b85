#include "source/oracle/oci_logminer.h"

#include "base/error.h"
#include "source/oracle/logminer_sql.h"

#include <fmt/format.h>

#include <charconv>

namespace rep::oracle {
namespace {

// Widths of the contents query's columns (logminer_sql.h order), in bytes. SQL_REDO is
// VARCHAR2(4000) in the database character set; converted to UTF-8 it may grow to 4 bytes
// per character.
const ColumnWidths kContentsWidths{
    {40, 40, 12, 4, 4, 12, 12, 512, 512, 40, 64, 40, 32, 512, 1024, 16000}};

class OciContents final : public ContentsCursor {
public:
    explicit OciContents(std::unique_ptr<OciRows> rows) : rows_(std::move(rows)) {}

    bool fetch(std::vector<ContentsRow>& out, size_t max_rows) override {
        // The array size is the session's; max_rows only bounds what one call appends.
        while (buffered_.size() < max_rows && more_) {
            more_ = rows_->fetch(buffered_);
        }
        size_t n = std::min(max_rows, buffered_.size());
        for (size_t i = 0; i < n; ++i) {
            out.push_back(convert(buffered_[i]));
        }
        buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<ptrdiff_t>(n));
        return more_ || !buffered_.empty();
    }

private:
    static ContentsRow convert(const TextRow& r) {
        auto text = [&](size_t i) { return r[i].value_or(""); };
        ContentsRow row;
        row.scn = parse_number(r[0], "SCN");
        row.xid = text(1);
        row.op = static_cast<int>(parse_number(r[2], "OPERATION_CODE"));
        row.csf = text(3) == "1";
        row.rollback = text(4) == "1";
        row.status = r[5] ? static_cast<int>(parse_number(r[5], "STATUS")) : 0;
        row.thread = r[6] ? static_cast<int>(parse_number(r[6], "THREAD#")) : 0;
        row.seg_owner = text(7);
        row.table = text(8);
        row.row_id = text(9);
        row.rs_id = text(10);
        row.ssn = r[11] ? parse_number(r[11], "SSN") : 0;
        row.timestamp = text(12);
        row.src_con_name = text(13);
        row.info = text(14);
        row.sql_redo = text(15);
        return row;
    }

    std::unique_ptr<OciRows> rows_;
    std::vector<TextRow> buffered_;
    bool more_ = true;
};

}  // namespace

uint64_t parse_number(const Cell& text, const char* what) {
    uint64_t value = 0;
    if (text && !text->empty()) {
        const char* end = text->data() + text->size();
        auto [ptr, ec] = std::from_chars(text->data(), end, value);
        if (ec == std::errc() && ptr == end) {
            return value;
        }
    }
    throw fatal(fmt::format("Oracle sent {} as \"{}\", which is not an unsigned number", what,
                            text.value_or("NULL")));
}

OciLogMiner::OciLogMiner(OciSession& session) : session_(session) {
    for (const std::string& statement : sql::session_setup()) {
        session_.execute(statement);
    }
}

uint64_t OciLogMiner::current_scn() {
    std::vector<TextRow> rows = session_.query_all(sql::current_scn(), 1);
    if (rows.size() != 1) {
        throw fatal("V$DATABASE returned no CURRENT_SCN");
    }
    return parse_number(rows[0][0], "CURRENT_SCN");
}

std::vector<RedoThread> OciLogMiner::threads() {
    std::vector<RedoThread> out;
    for (const TextRow& r : session_.query_all(sql::threads(), 5)) {
        RedoThread t;
        t.thread = static_cast<int>(parse_number(r[0], "THREAD#"));
        t.open = r[1].value_or("") == "OPEN";
        t.enabled = r[2].value_or("DISABLED") != "DISABLED";
        t.enabled_scn = r[3] ? parse_number(r[3], "ENABLE_CHANGE#") : 0;
        t.last_redo_scn = parse_number(r[4], "LAST_REDO_CHANGE#");
        out.push_back(t);
    }
    return out;
}

std::vector<LogFile> OciLogMiner::logs(const std::string& sql, uint64_t lo, uint64_t hi,
                                       bool archived) {
    std::vector<LogFile> out;
    for (const TextRow& r : session_.query_all(sql, 6, {std::to_string(lo), std::to_string(hi)})) {
        LogFile f;
        f.name = r[0].value_or("");
        f.thread = static_cast<int>(parse_number(r[1], "THREAD#"));
        f.sequence = parse_number(r[2], "SEQUENCE#");
        f.first_scn = parse_number(r[3], "FIRST_CHANGE#");
        f.next_scn = parse_number(r[4], "NEXT_CHANGE#");
        f.archived = archived;
        f.current = !archived && r[5].value_or("") == "CURRENT";
        f.deleted = archived && r[5].value_or("") == "D";
        out.push_back(std::move(f));
    }
    return out;
}

std::vector<LogFile> OciLogMiner::online_logs(uint64_t lo, uint64_t hi) {
    return logs(sql::online_logs(), lo, hi, false);
}

std::vector<LogFile> OciLogMiner::archived_logs(uint64_t lo, uint64_t hi) {
    return logs(sql::archived_logs(), lo, hi, true);
}

void OciLogMiner::add_logfile(const std::string& name, bool first) {
    session_.execute(sql::add_logfile(first), {name});
}

std::vector<LogFile> OciLogMiner::session_logs() {
    std::vector<LogFile> out;
    for (const TextRow& r : session_.query_all(sql::session_logs(), 5)) {
        LogFile f;
        f.name = r[0].value_or("");
        f.thread = static_cast<int>(parse_number(r[1], "THREAD_ID"));
        f.sequence = parse_number(r[2], "THREAD_SQN");
        f.first_scn = parse_number(r[3], "LOW_SCN");
        f.next_scn = parse_number(r[4], "NEXT_SCN");
        out.push_back(std::move(f));
    }
    return out;
}

void OciLogMiner::start(uint64_t lo, uint64_t hi) {
    session_.execute(sql::start_logminer(), {std::to_string(lo), std::to_string(hi)});
}

void OciLogMiner::end() {
    try {
        session_.execute(sql::end_logminer());
    } catch (const Error& e) {
        if (std::string(e.what()).find("ORA-01307") == std::string::npos) {
            throw;  // ORA-01307: no LogMiner session is open, which is what we wanted
        }
    }
}

std::unique_ptr<ContentsCursor> OciLogMiner::contents(const ContentsQuery& query) {
    std::vector<std::string> binds{std::to_string(query.lo), std::to_string(query.hi),
                                   query.schema};
    if (query.pdb) {
        binds.push_back(*query.pdb);
    }
    return std::make_unique<OciContents>(
        session_.query(sql::contents(query.pdb.has_value()), binds, kContentsWidths));
}

}  // namespace rep::oracle
