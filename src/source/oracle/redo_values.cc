#include "source/oracle/redo_values.h"

#include "base/error.h"

#include <fmt/format.h>

#include <cctype>
#include <regex>

namespace rep::oracle {
namespace {

using Kind = RedoValue::Kind;

[[noreturn]] void not_pinned(const char* what, const std::string& text) {
    throw fatal(fmt::format(
        "SQL_REDO has {} '{}', which is not in the format the replicator pins with ALTER SESSION "
        "SET NLS_...; the session's NLS settings were not in effect, and the value cannot be "
        "read safely",
        what, text));
}

// 'YYYY-MM-DD HH:MI:SS[.fffffffff]' with the fraction cut to microseconds.
std::string timestamp(const std::string& date, const std::string& fraction) {
    if (fraction.empty()) {
        return date;
    }
    return date + "." + fraction.substr(0, 6);
}

}  // namespace

std::optional<std::string> pg_text(const RedoValue& v) {
    static const std::regex kDate(R"((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}))");
    static const std::regex kTimestamp(R"((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d*))?)");
    static const std::regex kTimestampTz(
        R"((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d*))? ?([+-]\d{2}:\d{2}))");
    static const std::regex kYm(R"(([+-]?)(\d+)-(\d+))");
    static const std::regex kDs(R"(([+-]?)(\d+) (\d{2}:\d{2}:\d{2})(?:\.(\d*))?)");
    std::smatch m;
    switch (v.kind) {
        case Kind::kNull:
            return std::nullopt;
        case Kind::kText:
        case Kind::kNumber:
            return v.text;
        case Kind::kDate:
            if (!std::regex_match(v.text, m, kDate)) {
                not_pinned("the DATE", v.text);
            }
            return v.text;
        case Kind::kTimestamp:
            if (!std::regex_match(v.text, m, kTimestamp)) {
                not_pinned("the TIMESTAMP", v.text);
            }
            return timestamp(m[1], m[2]);
        case Kind::kTimestampTz:
            if (!std::regex_match(v.text, m, kTimestampTz)) {
                not_pinned("the TIMESTAMP WITH TIME ZONE", v.text);
            }
            return timestamp(m[1], m[2]) + std::string(m[3]);
        case Kind::kRaw:
            return "\\x" + v.text;
        case Kind::kEmptyLob:
            return std::string();
        case Kind::kYmInterval: {
            if (!std::regex_match(v.text, m, kYm)) {
                not_pinned("the INTERVAL YEAR TO MONTH", v.text);
            }
            std::string sign = m[1] == "-" ? "-" : "";
            return fmt::format("{}{} years {}{} months", sign, std::stoll(m[2]), sign,
                               std::stoll(m[3]));
        }
        case Kind::kDsInterval: {
            if (!std::regex_match(v.text, m, kDs)) {
                not_pinned("the INTERVAL DAY TO SECOND", v.text);
            }
            std::string sign = m[1] == "-" ? "-" : "";
            std::string time = m[3];
            if (m[4].length() > 0) {
                time += "." + std::string(m[4]).substr(0, 6);
            }
            return fmt::format("{}{} days {}{}", sign, std::stoll(m[2]), sign, time);
        }
        case Kind::kUnsupported:
            throw fatal(fmt::format(
                "SQL_REDO holds a value LogMiner cannot render ({}); the column's type is not "
                "supported by LogMiner or by this replicator (docs/oraclelogminer.md)",
                v.text));
    }
    return std::nullopt;
}

}  // namespace rep::oracle
