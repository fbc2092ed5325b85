#include "source/oracle/checkpoint_table.h"

#include "base/error.h"
#include "util/text_array.h"
#include "util/transaction.h"

#include <fmt/format.h>

#include <set>

namespace rep::oracle {
namespace {

// A text[] literal of `values`.
std::string array(const std::vector<std::string>& values) {
    std::string out;
    util::TextArrayBuilder b(out);
    for (const std::string& v : values) {
        b.add(v);
    }
    b.finish();
    return out;
}

}  // namespace

CheckpointTable::CheckpointTable(const std::string& schema_sql)
    : table_(schema_sql + "._oracle_checkpoint") {}

void CheckpointTable::ensure(util::TargetSession& session) {
    session.execute("CREATE TABLE IF NOT EXISTS " + table_ +
                    " (xid TEXT PRIMARY KEY, startscn INT8 NOT NULL, commitscn INT8 NULL, "
                    "committed BOOL NOT NULL DEFAULT false, thread INT4 NULL, "
                    "updated_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    session.execute("CREATE INDEX IF NOT EXISTS _oracle_checkpoint_committed_startscn ON " +
                    table_ + " (committed, startscn)");
}

std::vector<CheckpointRow> CheckpointTable::read(util::TargetSession& session) {
    std::vector<CheckpointRow> out;
    for (const auto& row : session.query("SELECT xid, startscn::TEXT, commitscn::TEXT, "
                                         "committed::TEXT FROM " +
                                         table_)) {
        CheckpointRow r;
        r.xid = row.at(0).value_or("");
        try {
            r.start_scn = std::stoull(row.at(1).value_or(""));
            if (row.at(2)) {
                r.commit_scn = std::stoull(*row.at(2));
            }
        } catch (const std::exception&) {
            throw fatal(
                fmt::format("{} row \"{}\" has a start or commit SCN that is not a "
                            "number; fix or delete that row",
                            table_, r.xid));
        }
        r.committed = row.at(3).value_or("") == "true";
        out.push_back(std::move(r));
    }
    return out;
}

void CheckpointTable::write(util::TargetSession& session, const std::vector<CheckpointOp>& batch) {
    std::vector<std::string> reg_xids;
    std::vector<std::string> reg_starts;
    std::vector<std::string> mark_xids;
    std::vector<std::string> mark_starts;
    std::vector<std::string> mark_commits;
    std::vector<std::string> deletes;
    const CheckpointOp* frontier = nullptr;
    std::set<std::string> registered;
    std::set<std::string> marked;
    for (const CheckpointOp& op : batch) {
        switch (op.kind) {
            case CheckpointOp::Kind::kRegister:
                if (registered.insert(op.xid).second) {
                    reg_xids.push_back(op.xid);
                    reg_starts.push_back(std::to_string(op.start_scn));
                }
                break;
            case CheckpointOp::Kind::kMark:
                if (marked.insert(op.xid).second) {
                    mark_xids.push_back(op.xid);
                    mark_starts.push_back(std::to_string(op.start_scn));
                    mark_commits.push_back(std::to_string(op.commit_scn));
                }
                break;
            case CheckpointOp::Kind::kDelete:
                deletes.push_back(op.xid);
                break;
            case CheckpointOp::Kind::kFrontier:
                frontier = &op;
                break;
        }
    }
    util::Transaction txn(session);
    if (!reg_xids.empty()) {
        session.execute("INSERT INTO " + table_ +
                            " (xid, startscn) SELECT x, s::INT8 FROM unnest($1::TEXT[], "
                            "$2::TEXT[]) AS u(x, s) ON CONFLICT (xid) DO NOTHING",
                        {array(reg_xids), array(reg_starts)});
    }
    if (!mark_xids.empty()) {
        session.execute(
            "INSERT INTO " + table_ +
                " (xid, startscn, commitscn, committed) SELECT x, s::INT8, c::INT8, true "
                "FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]) AS u(x, s, c) ON CONFLICT "
                "(xid) DO UPDATE SET commitscn = excluded.commitscn, committed = true, "
                "updated_at = now()",
            {array(mark_xids), array(mark_starts), array(mark_commits)});
    }
    if (!deletes.empty()) {
        session.execute("DELETE FROM " + table_ + " WHERE xid = ANY($1::TEXT[])", {array(deletes)});
    }
    if (frontier != nullptr) {
        session.execute("INSERT INTO " + table_ +
                            " (xid, startscn, committed) VALUES ($1, $2::INT8, false) ON "
                            "CONFLICT (xid) DO UPDATE SET startscn = excluded.startscn, "
                            "updated_at = now()",
                        {std::string(kFrontierXid), std::to_string(frontier->start_scn)});
    }
    txn.commit();
}

size_t CheckpointTable::collect(util::TargetSession& session) {
    auto rows = session.query("DELETE FROM " + table_ + " WHERE committed AND xid <> '" +
                              kFrontierXid + "' AND commitscn < (SELECT min(startscn) FROM " +
                              table_ + " WHERE NOT committed) RETURNING xid");
    return rows.size();
}

}  // namespace rep::oracle
