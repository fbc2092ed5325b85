#pragma once

#include "base/error.h"
#include "util/target_session.h"

namespace rep::util {

// One explicit transaction on a session: BEGIN when made, ROLLBACK when it goes out of scope
// without commit() or rollback() (an exception on the way), errors of that ROLLBACK ignored:
// the connection may be gone, and then so is the transaction.
class Transaction {
public:
    explicit Transaction(TargetSession& session) : session_(session) { session_.execute("BEGIN"); }
    ~Transaction() {
        if (!done_) {
            try {
                session_.execute("ROLLBACK");
            } catch (const Error&) {
            }
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit() {
        done_ = true;
        session_.execute("COMMIT");
    }
    void rollback() {
        done_ = true;
        session_.execute("ROLLBACK");
    }

private:
    TargetSession& session_;
    bool done_ = false;
};

}  // namespace rep::util
