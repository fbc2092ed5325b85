#pragma once

#include "base/error.h"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace rep::util {

// A SQL session on the target (or staging) database, as the apply logic uses it: the seam
// between that logic and libpq. PgConn is the production implementation; unit tests use a
// fake, so the batch fold, grouping, retries and salvage run without a server.
//
// Every call throws rep::Error: retryable for a lost connection and retryable SQLSTATEs,
// fatal otherwise. A session that broke stays broken until connect() is called again, so a
// lost transaction is never papered over. One thread at a time.
class TargetSession {
public:
    using Params = std::vector<std::optional<std::string>>;  // text parameters, nullopt: NULL
    using Row = std::vector<std::optional<std::string>>;     // text values, nullopt: NULL

    // One statement of a pipeline (exec_pipeline).
    struct PipelineCall {
        const std::string* name;  // prepared statement name, or nullptr: run `sql` unprepared
        const std::string* sql;
        std::vector<const char*> values;  // text parameters; nullptr is SQL NULL
    };

    virtual ~TargetSession() = default;

    // (Re)connects; a session connects on first use by itself. Prepared statements are
    // forgotten with the old connection.
    virtual void connect() = 0;
    virtual bool connected() const = 0;
    // True while a transaction block is open and healthy (after BEGIN, before COMMIT).
    virtual bool in_transaction() const = 0;

    // Runs one statement and discards its result.
    virtual void execute(const std::string& sql, const Params& params = {}) = 0;
    // Runs one query and returns its rows.
    virtual std::vector<Row> query(const std::string& sql, const Params& params = {}) = 0;
    // Runs the calls in order in one round trip, preparing the named statements this session
    // has not prepared yet in the same round trip. The server stops at the first failing
    // call; its error is thrown with *failed set to its index. A pipeline that cannot be
    // finished (the connection broke) leaves the session broken.
    virtual void exec_pipeline(const std::vector<PipelineCall>& calls, size_t* failed) = 0;

    // A pipeline in two halves, so that the next one can go out before the answers of the
    // last have come back (a group chained behind the previous group's COMMIT):
    // send_pipeline() sends the calls (the values need not outlive it), finish_pipeline()
    // reads the answers of the oldest pipeline still unanswered, throwing as exec_pipeline()
    // does. Nothing else may run on the session while answers are outstanding. A session that
    // cannot leave answers unread (the default, and the unit tests' fake) runs the calls at
    // once and keeps their outcome for finish_pipeline().
    virtual void send_pipeline(const std::vector<PipelineCall>& calls);
    virtual void finish_pipeline(size_t* failed);
    virtual size_t pipelines_unanswered() const { return ran_.size(); }

    // The first column of the first row, or nullopt for NULL or no row.
    std::optional<std::string> query_value(const std::string& sql, const Params& params = {}) {
        std::vector<Row> rows = query(sql, params);
        return rows.empty() || rows[0].empty() ? std::nullopt : rows[0][0];
    }

private:
    // The default send_pipeline()'s outcomes, oldest first: the error and the failing call.
    std::deque<std::optional<std::pair<Error, size_t>>> ran_;
};

}  // namespace rep::util
