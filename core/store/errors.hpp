// How the store reads libpqxx's exceptions: the Status an SQL error maps
// to, which failures are worth a retry, and which connection failures are
// permanent. Used by the retry loop (Store::run) and nowhere else.
#pragma once

#include <exception>
#include <string>

#include <pqxx/except>

#include "core/domain/status.hpp"

namespace wallet::store_errors {

// First line of a server message, without the "ERROR:  " prefix.
std::string server_message(const std::exception& error);

// Maps an SQL error to the core's Status. Our own functions raise WL4xx.
Status status_of(const pqxx::sql_error& error);

// A connection failure that no retry can fix (malformed conninfo, wrong
// password, missing role or database) as its Status; Ok for the others.
Status permanent_connection_error(const std::string& message);

// Whether an SQLSTATE is worth another attempt (serialization failure,
// deadlock, a server shutting down or starting, a lost connection).
bool retryable_state(const std::string& state);

}  // namespace wallet::store_errors
