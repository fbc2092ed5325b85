#include "util/target_session.h"

namespace rep::util {

void TargetSession::send_pipeline(const std::vector<PipelineCall>& calls) {
    size_t failed = 0;
    try {
        exec_pipeline(calls, &failed);
        ran_.emplace_back(std::nullopt);
    } catch (const Error& e) {
        ran_.emplace_back(std::make_pair(e, failed));
    }
}

void TargetSession::finish_pipeline(size_t* failed) {
    if (ran_.empty()) {
        throw Error(ErrorKind::kFatal, "internal error: no pipeline awaits its answers");
    }
    std::optional<std::pair<Error, size_t>> outcome = std::move(ran_.front());
    ran_.pop_front();
    if (outcome) {
        if (!connected()) {
            ran_.clear();  // the answers of later pipelines went with the connection
        }
        *failed = outcome->second;
        throw outcome->first;
    }
}

}  // namespace rep::util
