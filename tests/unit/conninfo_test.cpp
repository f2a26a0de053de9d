#include <doctest/doctest.h>

#include <chrono>

#include "core/store/conninfo.hpp"
#include "core/store/store.hpp"

using wallet::check_conninfo;
using wallet::Code;
using wallet::redact_secrets;

TEST_CASE("redact_secrets hides the password of a URI and keeps the rest") {
  CHECK(redact_secrets("postgresql://alice:s3cret@db.example:5432/wallet?sslmode=require") ==
        "postgresql://alice:***@db.example:5432/wallet?sslmode=require");
  CHECK(redact_secrets("postgres://alice:s3cr%40t@db/wallet") == "postgres://alice:***@db/wallet");
  CHECK(redact_secrets("POSTGRESQL://u:pw@h/d") == "POSTGRESQL://u:***@h/d");
  // No password, or no user information: unchanged.
  CHECK(redact_secrets("postgresql://alice@db/wallet") == "postgresql://alice@db/wallet");
  CHECK(redact_secrets("postgresql://db:5432/wallet") == "postgresql://db:5432/wallet");
  CHECK(redact_secrets("http://u:pw@example/") == "http://u:pw@example/");
}

TEST_CASE("redact_secrets hides the password of a malformed URI, inside libpq's message") {
  CHECK(redact_secrets("postgresql://u:pw@[::1/wallet") == "postgresql://u:***@[::1/wallet");
  const std::string message =
      "end of string reached when looking for matching \"]\" in IPv6 host address in URI: "
      "\"postgresql://u:pw@[::1/wallet\"";
  const std::string redacted = redact_secrets(message);
  CHECK(redacted.find("pw") == std::string::npos);
  CHECK(redacted.find("postgresql://u:***@[::1/wallet") != std::string::npos);
  // An unencoded '@' or '/' in the password: all of it up to the last '@'.
  CHECK(redact_secrets("postgresql://u:p@ss/w@host/db") == "postgresql://u:***@host/db");
  // A query's password, and a '@' in the query that is not user information.
  CHECK(redact_secrets("postgresql://host/db?user=a&password=secret&sslmode=require") ==
        "postgresql://host/db?user=a&password=***&sslmode=require");
  CHECK(redact_secrets("postgresql://host/db?application_name=a@b") == "postgresql://host/db?application_name=a@b");
}

TEST_CASE("redact_secrets hides password settings of a keyword/value conninfo, quoted or not") {
  CHECK(redact_secrets("host=db password=secret dbname=wallet") == "host=db password=*** dbname=wallet");
  CHECK(redact_secrets("host=db password = 'se cret\\' x' dbname=wallet") == "host=db password = *** dbname=wallet");
  CHECK(redact_secrets("host=db PASSWORD=secret") == "host=db PASSWORD=***");
  CHECK(redact_secrets("sslpassword=keypass host=db") == "sslpassword=*** host=db");
  // An unterminated quote hides everything after it.
  CHECK(redact_secrets("host=db password='unterminated dbname=wallet") == "host=db password=***");
  // Words that only look alike are left alone.
  CHECK(redact_secrets("no passwords here, password_file=x") == "no passwords here, password_file=x");
  CHECK(redact_secrets("") == "");
  CHECK(redact_secrets("connection to server at \"127.0.0.1\", port 1 failed") ==
        "connection to server at \"127.0.0.1\", port 1 failed");
}

TEST_CASE("redact_secrets with the conninfo hides the quoted pieces of its password that libpq echoes") {
  // libpq reads "cret" as a keyword of its own and quotes it back.
  CHECK(redact_secrets("missing \"=\" after \"cret\" in connection info string", "host=h password=se cret") ==
        "missing \"=\" after \"***\" in connection info string");
  CHECK(redact_secrets("invalid percent-encoded token: \"p%zz\"", "postgresql://u:p%zz@h/db") ==
        "invalid percent-encoded token: \"***\"");
  // Quoted parts that are not pieces of the password stay.
  CHECK(redact_secrets("invalid connection option \"foo\"", "foo=1 password=secret") ==
        "invalid connection option \"foo\"");
  CHECK(redact_secrets("invalid connection option \"foo\"", "foo=1") == "invalid connection option \"foo\"");
}

TEST_CASE("check_conninfo refuses what libpq cannot parse, without the password") {
  CHECK(check_conninfo("").ok());
  CHECK(check_conninfo("host=db dbname=wallet password=secret").ok());
  CHECK(check_conninfo("postgresql://u:pw@db/wallet").ok());
  for (const char* bad : {"postgresql://u:pw@[::1/wallet", "host=db password=se cret", "postgresql://u:p%zz@h/db",
                          "host=db password='pw"}) {
    CAPTURE(bad);
    const auto status = check_conninfo(bad);
    CHECK(status.code() == Code::invalid);
    CHECK(status.message().rfind("invalid database connection string: ", 0) == 0);
    CHECK(status.message().find("pw") == std::string::npos);
    CHECK(status.message().find("cret") == std::string::npos);
    CHECK(status.message().find("zz") == std::string::npos);
    CHECK(status.message().find('\n') == std::string::npos);
  }
}

TEST_CASE("a Store refuses a malformed conninfo at once and never prints its password") {
  wallet::Store malformed("postgresql://u:pw-5ecret@[::1/wallet");
  const wallet::Status status = malformed.ping();
  CHECK(status.code() == Code::invalid);
  CHECK(malformed.last_attempts() == 0);  // not one connection attempt, let alone six
  CHECK(status.message().find("5ecret") == std::string::npos);
  CHECK(status.message().find("postgresql://u:***@[::1/wallet") != std::string::npos);
}

TEST_CASE("a Store retries an unreachable server and its message carries no password") {
  wallet::RetryPolicy fast;
  fast.attempts_max = 2;
  fast.backoff_first = std::chrono::milliseconds{1};
  fast.backoff_max = std::chrono::milliseconds{1};
  wallet::Store unreachable("postgresql://u:pw-5ecret@127.0.0.1:1/wallet?connect_timeout=1", fast);
  const wallet::Status status = unreachable.ping();
  CHECK(status.code() == Code::temporary);
  CHECK(unreachable.last_attempts() == 2);
  CHECK(status.message().find("5ecret") == std::string::npos);
}
