#pragma once

#include <string>
#include <string_view>

namespace rep {

// Describes a libpq connection string (URL or key=value form) for logs and errors without its
// secrets: "postgresql://user@host:port/dbname". Passwords, sslpassword and other
// credential fields are never included. Unparseable strings render as "<invalid connection
// string>".
std::string redact_conninfo(std::string_view conninfo);

// Returns the value of `key` (e.g. "dbname") from a libpq connection string, or "" if unset.
std::string conninfo_value(std::string_view conninfo, std::string_view key);

}  // namespace rep
