#pragma once

#include <stdexcept>
#include <string>

namespace rep {

// How the pipeline should react to a failure. The code that knows what went wrong (a target
// statement, the replication connection) classifies it; the pipeline decides what to do:
//  - kRetryable: transient (serialization failure, deadlock, lost connection). Back off and try
//    again from the last committed checkpoint.
//  - kFatal: retrying cannot help (bad data, schema drift, missing slot). Stop, leave the
//    checkpoint where it is, exit non-zero with the message.
enum class ErrorKind { kRetryable, kFatal };

// The one exception type that crosses module boundaries. `what()` is the operator-facing
// message: it names the thing (table, column, flag, SQLSTATE, LSN) and, where there is one, the
// fix.
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message, std::string sqlstate = {})
        : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}

    ErrorKind kind() const { return kind_; }
    // The process's exit status when this error ends it: 1, or 2 for a setup the operator
    // must change before anything can run (setup_error()), as for a bad flag.
    int exit_status() const { return exit_status_; }
    Error& set_exit_status(int status) {
        exit_status_ = status;
        return *this;
    }
    bool retryable() const { return kind_ == ErrorKind::kRetryable; }
    // Five-character SQLSTATE when the error came from a server, else empty.
    const std::string& sqlstate() const { return sqlstate_; }

private:
    ErrorKind kind_;
    std::string sqlstate_;
    int exit_status_ = 1;
};

inline Error fatal(const std::string& message) {
    return Error(ErrorKind::kFatal, message);
}

// A fatal error in the setup, found before anything was written (exit status 2).
inline Error setup_error(const std::string& message) {
    Error e(ErrorKind::kFatal, message);
    e.set_exit_status(2);
    return e;
}

}  // namespace rep
