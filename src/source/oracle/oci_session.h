#pragma once

#include "source/oracle/oci_api.h"
#include "source/oracle/oracle_url.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rep::oracle {

using Cell = std::optional<std::string>;  // nullopt: NULL
using TextRow = std::vector<Cell>;

// The column widths a query's rows are fetched into, in bytes (UTF-8): a value that does not
// fit is an error, never cut.
struct ColumnWidths {
    std::vector<size_t> bytes;
};

// An open SELECT, fetched in arrays of rows.
class OciRows {
public:
    virtual ~OciRows() = default;
    // Appends up to the array size to `out`; false once the cursor is exhausted (rows may
    // still have been appended by that call).
    virtual bool fetch(std::vector<TextRow>& out) = 0;
};

// One OCI connection (an environment, a server attachment and a session), used from one
// thread. Connecting is bounded by the Easy Connect string's CONNECT_TIMEOUT, the login and
// every later call by `call_timeout` (OCI_ATTR_CALL_TIMEOUT): a server that does not answer
// ends the call with an error instead of a hang. Errors are rep::Error with the
// server's "ORA-nnnnn: ..." text: retryable for a lost connection, a shutdown, an overwritten
// log or memory pressure (a new session may succeed), fatal otherwise (privileges, unknown
// objects, bad credentials), with a hint where one is known. The password is never in a
// message.
class OciSession {
public:
    struct Options {
        std::chrono::milliseconds call_timeout{std::chrono::minutes(5)};
        size_t array_rows = 500;  // rows per fetch
    };

    // Connects; throws rep::Error naming `url.redacted()` on failure.
    OciSession(const oci::Api& api, const OracleUrl& url, Options options);
    ~OciSession();
    OciSession(const OciSession&) = delete;
    OciSession& operator=(const OciSession&) = delete;

    // Runs a statement (PL/SQL block, DDL, DML) with text binds (:1, :2, ...).
    void execute(const std::string& sql, const std::vector<std::string>& binds = {});
    // Opens a SELECT with text binds whose columns are fetched as text of at most `widths`.
    std::unique_ptr<OciRows> query(const std::string& sql, const std::vector<std::string>& binds,
                                   const ColumnWidths& widths);
    // All rows of a small SELECT whose columns are at most 4000 bytes each.
    std::vector<TextRow> query_all(const std::string& sql, size_t columns,
                                   const std::vector<std::string>& binds = {});
    void commit();
    // OCIPing: "" if the server answers, else the error.
    std::string ping();
    // OCIBreak, from another thread: the call in progress on this session ends with an error
    // at once (a stop must not wait for a long LogMiner query). The session is unusable after.
    void interrupt();

    const std::string& target() const { return target_; }

private:
    class Statement;
    friend class Statement;
    void open(const OracleUrl& url);
    // Ends the session and frees every handle (from a failed open() too).
    void close();
    // Throws the error of the last call on `handle` if `status` is not a success.
    void check(int status, const std::string& what) const;

    const oci::Api& api_;
    Options options_;
    std::string target_;  // url.redacted(), for messages
    void* env_ = nullptr;
    void* err_ = nullptr;
    void* server_ = nullptr;
    void* svc_ = nullptr;
    void* session_ = nullptr;
    void* break_err_ = nullptr;  // OCIBreak's own error handle (the call's is in use)
    bool attached_ = false;
    bool begun_ = false;
};

// Whether ORA-`code` is worth a new attempt (a new session, the window mined again):
// connection loss, shutdown, an online log switched or overwritten while read, a log file
// missing for now, resource pressure (reference §1.9).
bool retryable_ora(int code);

}  // namespace rep::oracle
