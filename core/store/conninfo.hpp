// PostgreSQL connection strings (libpq conninfo: keyword/value settings or a
// postgresql:// URI) as the programs must treat them: checked before use,
// and never printed with their passwords. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/domain/status.hpp"

namespace wallet {

// `text` (an error or log message) with every password that a connection
// string in it carries replaced by "***": the password of a postgresql://
// or postgres:// URI's user information, and the value of a password or
// sslpassword setting (keyword/value, quoted or not, or in a URI's query).
// Works on malformed strings too (an unterminated quote, a URI with no
// closing bracket): it errs towards hiding more. When `conninfo` is given,
// also hides every double-quoted part of `text` that is a piece of one of
// conninfo's passwords (libpq quotes the words of a malformed string it
// complains about, which may be part of a password).
std::string redact_secrets(std::string_view text, std::string_view conninfo = {});

// Ok when libpq can parse `conninfo`; else Invalid, with libpq's reason
// (passwords redacted). A malformed string can never connect, so it is
// reported at once and not retried.
Status check_conninfo(const std::string& conninfo);

}  // namespace wallet
