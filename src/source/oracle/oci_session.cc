#include "source/oracle/oci_session.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <set>

namespace rep::oracle {
namespace {

using oci::sb2;
using oci::sword;
using oci::ub2;
using oci::ub4;

constexpr ub2 kTruncated = 1406;  // ORA-01406: fetched column value was truncated

std::string hint_for(int code) {
    switch (code) {
        case 1017:
            return " (check the user name and password)";
        case 1031:
        case 1435:
        case 942:
            return " (the replication user lacks a grant: see docs/oraclelogminer.md, "
                   "\"Source setup\")";
        case 12514:
            return " (the listener does not know this service name: check the URL's service)";
        case 1291:
            return " (a redo log file is missing)";
        default:
            return "";
    }
}

}  // namespace

bool retryable_ora(int code) {
    static const std::set<int> kCodes = {
        310,   1368,             // an online log switched or overwritten while being read
        1291,                    // missing log file: selected again next time
        1284,  1343, 1371, 604,  // locked file, LogMiner dictionary or recursive SQL trouble
        3113,  3114, 3135, 3136, 12152, 12153, 12170, 12537, 12541, 12543, 12547, 12560,
        12571,                          // the connection
        1033,  1034, 1089, 1090, 1092,  // startup or shutdown in progress
        4030,  4031, 4036,              // memory
        3156,                           // OCI call timed out (OCI_ATTR_CALL_TIMEOUT)
    };
    return kCodes.contains(code);
}

// A prepared statement with its binds and, for a SELECT, its define buffers.
class OciSession::Statement final : public OciRows {
public:
    Statement(OciSession& session, const std::string& sql) : s_(session), sql_(sql) {
        const auto* text = reinterpret_cast<const oci::OraText*>(sql.data());  // NOLINT
        s_.check(
            s_.api_.OCIStmtPrepare2(s_.svc_, &stmt_, s_.err_, text, static_cast<ub4>(sql.size()),
                                    nullptr, 0, oci::kNtvSyntax, oci::kDefault),
            "preparing a statement");
    }
    ~Statement() override {
        if (stmt_ != nullptr) {
            s_.api_.OCIStmtRelease(stmt_, s_.err_, nullptr, 0, oci::kDefault);
        }
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    void bind(const std::vector<std::string>& binds) {
        binds_ = binds;  // OCI reads them at execute time
        bind_lengths_.assign(binds_.size(), 0);
        for (size_t i = 0; i < binds_.size(); ++i) {
            void* handle = nullptr;
            bind_lengths_[i] = static_cast<ub4>(binds_[i].size());
            s_.check(s_.api_.OCIBindByPos2(
                         stmt_, &handle, s_.err_, static_cast<ub4>(i + 1), binds_[i].data(),
                         static_cast<oci::sb8>(binds_[i].size()), oci::kSqltChr, nullptr,
                         &bind_lengths_[i], nullptr, 0, nullptr, oci::kDefault),
                     "binding a value");
        }
    }

    void define(const ColumnWidths& widths, size_t rows) {
        rows_ = rows;
        widths_ = widths.bytes;
        buffers_.resize(widths_.size());
        indicators_.resize(widths_.size());
        lengths_.resize(widths_.size());
        codes_.resize(widths_.size());
        for (size_t c = 0; c < widths_.size(); ++c) {
            // Not zeroed: OCI writes each value and its length, and only that is read (2 MB
            // for the contents query's SQL_REDO column would be cleared for nothing).
            buffers_[c] = std::make_unique_for_overwrite<char[]>(widths_[c] * rows);
            indicators_[c].assign(rows, 0);
            lengths_[c].assign(rows, 0);
            codes_[c].assign(rows, 0);
            void* handle = nullptr;
            s_.check(s_.api_.OCIDefineByPos2(stmt_, &handle, s_.err_, static_cast<ub4>(c + 1),
                                             buffers_[c].get(), static_cast<oci::sb8>(widths_[c]),
                                             oci::kSqltChr, indicators_[c].data(),
                                             lengths_[c].data(), codes_[c].data(), oci::kDefault),
                     "defining a column");
        }
    }

    void execute(ub4 iterations) {
        s_.check(s_.api_.OCIStmtExecute(s_.svc_, stmt_, s_.err_, iterations, 0, nullptr, nullptr,
                                        oci::kDefault),
                 "executing");
    }

    bool fetch(std::vector<TextRow>& out) override {
        if (done_) {
            return false;
        }
        sword status = s_.api_.OCIStmtFetch2(stmt_, s_.err_, static_cast<ub4>(rows_),
                                             oci::kFetchNext, 0, oci::kDefault);
        if (status == oci::kNoData) {
            done_ = true;  // the last batch may still hold rows
        } else {
            s_.check(status, "fetching rows");
        }
        ub4 fetched = 0;
        s_.check(s_.api_.OCIAttrGet(stmt_, oci::kHtypeStmt, &fetched, nullptr,
                                    oci::kAttrRowsFetched, s_.err_),
                 "reading the fetched row count");
        for (size_t r = 0; r < fetched && r < rows_; ++r) {
            TextRow row(widths_.size());
            for (size_t c = 0; c < widths_.size(); ++c) {
                if (indicators_[c][r] == -1) {
                    continue;  // NULL
                }
                if (indicators_[c][r] > 0 || codes_[c][r] == kTruncated ||
                    lengths_[c][r] > widths_[c]) {
                    throw fatal(
                        fmt::format("column {} of a row of `{}` is longer than the {} "
                                    "bytes read for it",
                                    c + 1, sql_.substr(0, 60), widths_[c]));
                }
                row[c] = std::string(buffers_[c].get() + widths_[c] * r, lengths_[c][r]);
            }
            out.push_back(std::move(row));
        }
        return !done_;
    }

private:
    OciSession& s_;
    std::string sql_;
    void* stmt_ = nullptr;
    std::vector<std::string> binds_;
    std::vector<ub4> bind_lengths_;
    size_t rows_ = 0;
    std::vector<size_t> widths_;
    std::vector<std::unique_ptr<char[]>> buffers_;
    std::vector<std::vector<sb2>> indicators_;
    std::vector<std::vector<ub4>> lengths_;
    std::vector<std::vector<ub2>> codes_;
    bool done_ = false;
};

OciSession::OciSession(const oci::Api& api, const OracleUrl& url, Options options)
    : api_(api), options_(options), target_(url.redacted()) {
    try {
        open(url);
    } catch (...) {
        close();  // a failed login must not leak its handles and connection
        throw;
    }
}

void OciSession::open(const OracleUrl& url) {
    auto setup = [&](sword status, const char* what) {
        if (status != oci::kSuccess && status != oci::kSuccessWithInfo) {
            throw Error(ErrorKind::kRetryable,
                        fmt::format("cannot {} for {} (OCI status {})", what, target_, status));
        }
    };
    setup(api_.OCIEnvNlsCreate(&env_, oci::kThreaded, nullptr, nullptr, nullptr, nullptr, 0,
                               nullptr, oci::kCharsetAl32Utf8, oci::kCharsetAl32Utf8),
          "create an OCI environment");
    setup(api_.OCIHandleAlloc(env_, &err_, oci::kHtypeError, 0, nullptr), "allocate handles");
    setup(api_.OCIHandleAlloc(env_, &server_, oci::kHtypeServer, 0, nullptr), "allocate handles");
    setup(api_.OCIHandleAlloc(env_, &svc_, oci::kHtypeSvcCtx, 0, nullptr), "allocate handles");
    setup(api_.OCIHandleAlloc(env_, &session_, oci::kHtypeSession, 0, nullptr), "allocate handles");
    setup(api_.OCIHandleAlloc(env_, &break_err_, oci::kHtypeError, 0, nullptr), "allocate handles");
    std::string dblink = url.easy_connect();
    check(api_.OCIServerAttach(server_, err_,
                               reinterpret_cast<const oci::OraText*>(  // NOLINT
                                   dblink.data()),
                               static_cast<oci::sb4>(dblink.size()), oci::kDefault),
          "connecting");
    attached_ = true;
    check(api_.OCIAttrSet(svc_, oci::kHtypeSvcCtx, server_, 0, oci::kAttrServer, err_),
          "connecting");
    // Bounds the login's round trips too (connecting is bounded by CONNECT_TIMEOUT).
    auto timeout = static_cast<ub4>(options_.call_timeout.count());
    check(api_.OCIAttrSet(svc_, oci::kHtypeSvcCtx, &timeout, sizeof timeout, oci::kAttrCallTimeout,
                          err_),
          "setting the call timeout");
    std::string user = url.user;
    std::string password = url.password;
    std::string driver = "replicator";
    check(api_.OCIAttrSet(session_, oci::kHtypeSession, user.data(), static_cast<ub4>(user.size()),
                          oci::kAttrUsername, err_),
          "logging in");
    check(api_.OCIAttrSet(session_, oci::kHtypeSession, password.data(),
                          static_cast<ub4>(password.size()), oci::kAttrPassword, err_),
          "logging in");
    check(api_.OCIAttrSet(session_, oci::kHtypeSession, driver.data(),
                          static_cast<ub4>(driver.size()), oci::kAttrDriverName, err_),
          "logging in");
    check(api_.OCISessionBegin(svc_, err_, session_, oci::kCredRdbms, oci::kStmtCache),
          "logging in");
    begun_ = true;
    check(api_.OCIAttrSet(svc_, oci::kHtypeSvcCtx, session_, 0, oci::kAttrSession, err_),
          "logging in");
}

OciSession::~OciSession() {
    close();
}

void OciSession::close() {
    if (begun_) {
        api_.OCISessionEnd(svc_, err_, session_, oci::kDefault);
    }
    if (attached_) {
        api_.OCIServerDetach(server_, err_, oci::kDefault);
    }
    for (auto [handle, type] :
         {std::pair{session_, oci::kHtypeSession}, std::pair{svc_, oci::kHtypeSvcCtx},
          std::pair{server_, oci::kHtypeServer}, std::pair{err_, oci::kHtypeError},
          std::pair{break_err_, oci::kHtypeError}, std::pair{env_, oci::kHtypeEnv}}) {
        if (handle != nullptr) {
            api_.OCIHandleFree(handle, type);
        }
    }
    session_ = svc_ = server_ = err_ = break_err_ = env_ = nullptr;
    begun_ = attached_ = false;
}

void OciSession::check(int status, const std::string& what) const {
    if (status == oci::kSuccess || status == oci::kSuccessWithInfo) {
        return;
    }
    std::string message;
    int first_code = 0;
    if (status == oci::kError) {
        for (ub4 record = 1;; ++record) {
            std::array<oci::OraText, 3072> buf{};
            oci::sb4 code = 0;
            if (api_.OCIErrorGet(err_, record, nullptr, &code, buf.data(),
                                 static_cast<ub4>(buf.size()), oci::kHtypeError) != oci::kSuccess) {
                break;
            }
            std::string text(reinterpret_cast<const char*>(buf.data()));  // NOLINT
            while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
                text.pop_back();
            }
            message += (message.empty() ? "" : "; ") + text;
            if (first_code == 0) {
                first_code = code;
            }
        }
    }
    if (message.empty()) {
        message = fmt::format("OCI status {}", status);
    }
    ErrorKind kind = status == oci::kInvalidHandle || !retryable_ora(first_code)
                         ? ErrorKind::kFatal
                         : ErrorKind::kRetryable;
    throw Error(kind, fmt::format("Oracle {}: {} while {}{}", target_, message, what,
                                  hint_for(first_code)));
}

void OciSession::execute(const std::string& sql, const std::vector<std::string>& binds) {
    Statement stmt(*this, sql);
    stmt.bind(binds);
    stmt.execute(1);
}

std::unique_ptr<OciRows> OciSession::query(const std::string& sql,
                                           const std::vector<std::string>& binds,
                                           const ColumnWidths& widths) {
    auto stmt = std::make_unique<Statement>(*this, sql);
    stmt->bind(binds);
    stmt->define(widths, options_.array_rows);
    stmt->execute(0);
    return stmt;
}

std::vector<TextRow> OciSession::query_all(const std::string& sql, size_t columns,
                                           const std::vector<std::string>& binds) {
    std::unique_ptr<OciRows> rows =
        query(sql, binds, ColumnWidths{std::vector(columns, size_t{4000})});
    std::vector<TextRow> out;
    while (rows->fetch(out)) {
    }
    return out;
}

void OciSession::commit() {
    check(api_.OCITransCommit(svc_, err_, oci::kDefault), "committing");
}

void OciSession::interrupt() {
    if (svc_ != nullptr && break_err_ != nullptr) {
        api_.OCIBreak(svc_, break_err_);
    }
}

std::string OciSession::ping() {
    try {
        check(api_.OCIPing(svc_, err_, oci::kDefault), "pinging");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace rep::oracle
