// Request bodies of walletd's POST routes, read into the core's inputs.
// Pure: no HTTP library, no database; exposed so that the unit tests and
// the fuzz target (tests/fuzz/http_body_fuzz.cpp) exercise exactly what
// the routes in api.cpp run.
//
// Every function takes the raw body text (empty means "{}") and returns the
// input or Invalid with a one-line message. A body must be a JSON object
// whose members are all known for the route; text fields must be strings
// (amounts too: a JSON number would invite floating point into the money
// path), flags booleans. Nothing here throws.
#pragma once

#include <string>

#include "core/domain/status.hpp"
#include "core/domain/types.hpp"

namespace wallet::daemon {

// POST /v1/deposits, /v1/withdrawals ({user, asset, amount, kind?, memo?,
// pending?, timeout?}) and /v1/transfers ({from, to, asset, amount, memo?,
// pending?, timeout?}). The idempotency key and actor are left empty: they
// come from the request's headers and token.
Result<MovementInput> movement_input(Operation operation, const std::string& text);

// POST /v1/transactions/{id}/post ({amount?}), .../void ({reason?}) and
// .../reverse ({}). `action` is "post", "void" or "reverse".
struct TransactionActionInput {
  std::string amount;  // post: empty means all of the hold
  std::string reason;  // void: empty means a default reason
};
Result<TransactionActionInput> transaction_action_input(const std::string& action, const std::string& text);

// POST /v1/wallets ({user, asset}).
struct WalletInput {
  std::string user;
  std::string asset;
};
Result<WalletInput> wallet_input(const std::string& text);

}  // namespace wallet::daemon
