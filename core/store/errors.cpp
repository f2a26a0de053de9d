#include "core/store/errors.hpp"

#include <pqxx/pqxx>

namespace wallet::store_errors {

namespace {

// The error's SQLSTATE. libpqxx 6 throws some of its specific classes
// without it (insufficient_privilege among them); those get theirs back.
std::string sqlstate_of(const pqxx::sql_error& error) {
  if (!error.sqlstate().empty()) return error.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&error) != nullptr) return "42501";
  return "";
}

}  // namespace

std::string server_message(const std::exception& error) {
  std::string text = error.what();
  for (const char* prefix : {"ERROR:  ", "FATAL:  "}) {
    if (text.rfind(prefix, 0) == 0) text.erase(0, std::char_traits<char>::length(prefix));
  }
  if (auto newline = text.find('\n'); newline != std::string::npos) text.erase(newline);
  return text;
}

Status status_of(const pqxx::sql_error& error) {
  const std::string state = sqlstate_of(error);
  const std::string message = server_message(error);
  if (state == "WL400") return Status::Invalid(message);
  if (state == "WL404") return Status::NotFound(message);
  if (state == "WL409") return Status::Conflict(message);
  if (state == "WL403") return Status::Conflict(message);
  if (state == "22003") {
    return Status::Invalid("amount out of range: " + message +
                           " (a balance or total would not fit in 64 bits)");
  }
  if (state.rfind("22", 0) == 0) return Status::Invalid(message);  // data exception
  if (state == "23505") return Status::Conflict(message);           // unique violation
  if (state == "23514") return Status::Invalid(message);            // check violation: input our checks missed
  if (state == "42501") {  // insufficient privilege
    return Status::Internal(message +
                            " (walletctl and walletd connect as a member of wallet_app, which may only read and"
                            " call the ledger's functions; walletctl migrate needs a superuser or a member of"
                            " wallet_owner: see DATABASE ROLES in walletctl(1))");
  }
  if (state == "26000" || state == "42P05") {
    // A named statement missing, or there already, on the server connection:
    // a pooler that switches server connections between transactions.
    return Status::Internal(message + " (behind PgBouncer in transaction pooling mode? set prepared_statements = "
                                      "false, or --no-prepared-statements)");
  }
  if (state == "42883" || state == "42P01") {
    return Status::Internal(message + " (is the schema migrated? run: walletctl migrate)");
  }
  return Status::Internal(message);
}

Status permanent_connection_error(const std::string& message) {
  for (const char* usage : {"invalid connection option", "missing \"=\" after", "invalid URI",
                            "invalid integer value", "unterminated quoted string", "invalid sslmode"}) {
    if (message.find(usage) != std::string::npos) return Status::Invalid("invalid database connection string: " + message);
  }
  for (const char* setup : {"password authentication failed", "does not exist", "no pg_hba.conf entry",
                            "role \"", "permission denied for database"}) {
    if (message.find(setup) != std::string::npos) return Status::Internal(message);
  }
  return Status::Ok();
}

bool retryable_state(const std::string& state) {
  return state == "40001" || state == "40P01"  // serialization failure, deadlock
         || state == "57P01" || state == "57P02" || state == "57P03"  // shutdown, starting up
         || state.rfind("08", 0) == 0  // connection exceptions
         // A write reached a server in recovery: after a failover, a node
         // that was demoted to standby. Nothing was done; a new connection
         // (target_session_attrs=read-write) finds the new primary.
         || state == "25006";
}

}  // namespace wallet::store_errors
