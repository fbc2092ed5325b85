#include "source/oracle/sentinel.h"

#include "base/error.h"
#include "source/oracle/logminer_sql.h"

#include <spdlog/spdlog.h>

namespace rep::oracle {

Sentinel::Sentinel(const oci::Api& api, OracleUrl url, std::string schema, bool table_exists)
    : api_(api), url_(std::move(url)), schema_(std::move(schema)), enabled_(table_exists) {
    if (!enabled_) {
        spdlog::warn(
            "{}.REPLICATOR_SENTINEL does not exist: without its heartbeat, transactions "
            "committed just before the source goes quiet are replicated only at its next write. "
            "Create it: CREATE TABLE {}.REPLICATOR_SENTINEL (KEYCOL NUMBER PRIMARY KEY, LASTSCN "
            "NUMBER)",
            schema_, schema_);
    }
}

void Sentinel::maybe_beat(uint64_t current_scn, bool idle) {
    auto now = std::chrono::steady_clock::now();
    auto since = now - last_;
    if (!enabled_ ||
        (since < std::chrono::seconds(10) && (!idle || since < std::chrono::seconds(1)))) {
        return;
    }
    last_ = now;
    try {
        if (!session_) {
            session_ = std::make_unique<OciSession>(api_, url_, OciSession::Options{});
        }
        std::string scn = std::to_string(current_scn);
        session_->execute(sql::sentinel_merge(schema_), {scn, scn});
        session_->commit();
        ++beats_;
    } catch (const Error& e) {
        session_.reset();
        spdlog::warn("the REPLICATOR_SENTINEL heartbeat failed (retried in 10s): {}", e.what());
    }
}

}  // namespace rep::oracle
