#include "target/errors.h"

namespace rep::target {

std::string advice_for_sqlstate(const std::string& s) {
    if (s == "42P01" || s == "42703") {
        return "the target schema differs from the source; align the table definitions";
    }
    if (s.rfind("22", 0) == 0) {
        return "a source value does not fit the target column type; align the column types";
    }
    if (s.rfind("23", 0) == 0) {
        return "a target constraint rejected the row; drop or relax non-primary-key constraints "
               "during the migration, or fix the conflicting target data";
    }
    if (s == "08P01") {
        return "the target refused the message; if it was too large (CockroachDB: "
               "sql.conn.max_read_buffer_message_size, 16 MiB by default), lower "
               "--targetMaxMessageBytes, or raise that cluster setting for a single row wider "
               "than it";
    }
    if (s.rfind("42", 0) == 0) {
        return "check the target user's privileges and the table definitions";
    }
    return "fix the cause and run the same command again; replication resumes from the last "
           "committed checkpoint";
}

}  // namespace rep::target
