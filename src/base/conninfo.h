#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rep {

// Describes a libpq connection string (URL or key=value form) for logs and errors without its
// secrets: "postgresql://user@host:port/dbname". Passwords, sslpassword and other
// credential fields are never included. Unparseable strings, and URLs whose user part is
// ambiguous (url_userinfo_problem), render as "<invalid connection string>".
std::string redact_conninfo(std::string_view conninfo);

// Why `conninfo` is not a PostgreSQL connection string ("" if it is one): a URL whose scheme
// is not postgresql:// or postgres://, or text libpq cannot parse. libpq would read a
// misspelt scheme ("postgresq://user:secret@host/db") as a database name on the default
// server, sending the password along and printing it in errors; this is checked before
// anything connects. The answer never repeats the string (only a scheme, which holds no
// secret).
std::string conninfo_problem(std::string_view conninfo);

// Why the user name or password of a URL (postgresql://, mysql://) cannot be told apart from
// its hosts ("" if it can): an unencoded @ / ? or # in them. Never repeats the URL.
std::string url_userinfo_problem(std::string_view url);

// Returns the value of `key` (e.g. "dbname") from a libpq connection string, or "" if unset.
std::string conninfo_value(std::string_view conninfo, std::string_view key);

// The user names and hosts a connection string (libpq's, or a mysql:// URL) connects with,
// including libpq's defaults from the environment, for hide_identities.
std::vector<std::string> conninfo_identities(std::string_view conninfo);

// `text` with every whole occurrence of one of `identities` replaced with "<hidden>": what
// /_/diag and /_/healthz show unless --diagShowHosts is given.
std::string hide_identities(std::string_view text, const std::vector<std::string>& identities);

}  // namespace rep
