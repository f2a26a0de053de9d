// The operations of the wallet ledger, shared by walletctl and walletd.
//
// Ledger validates what a user typed (ids, amounts, kinds, bounds), turns it
// into requests for the Store, and records failed state-changing actions in
// the audit log. Every method returns a Status on failure and never throws;
// invalid input is refused before anything is written.
//
// Not thread-safe (it uses one Store); use one Ledger per thread.
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/store.hpp"
#include "core/types.hpp"

namespace wallet {

class Ledger {
 public:
  Ledger(Store& store, const Config& config) : store_(store), config_(config) {}

  Result<std::vector<MigrationState>> migrate() { return store_.migrate(); }
  Result<std::vector<MigrationState>> migration_status() { return store_.migration_status(); }

  Result<Asset> asset_add(const std::string& code, int scale, const std::string& name,
                          const std::string& actor);
  Result<std::vector<Asset>> assets() { return store_.assets(); }

  Result<Wallet> wallet_create(const std::string& user, const std::string& asset,
                               const std::string& actor);
  Result<std::vector<Wallet>> wallets(const std::optional<std::string>& user,
                                      const std::optional<std::string>& asset);
  Result<std::vector<Balance>> balances(const std::string& user,
                                        const std::optional<std::string>& asset);

  // deposit, withdraw or transfer; see DESIGN §4 for the accounts involved.
  Result<Movement> move(const MovementInput& input);
  Result<TransactionDetail> transaction(const std::string& id_text);
  Result<HistoryPage> history(HistoryQuery query, const std::string& cursor_text);
  Result<std::vector<AuditRow>> audit(const AuditQuery& query);

 private:
  Result<MovementRequest> prepare(const MovementInput& input);

  Store& store_;
  const Config& config_;
};

// Pure helpers, exposed for unit tests.

// The debit and credit users and the kind of a movement; Invalid for a kind
// that does not belong to the operation.
struct Route {
  std::string kind;
  std::string from_user;
  std::string to_user;
};
Result<Route> route_of(const MovementInput& input);

// Canonical text of everything that makes two requests "the same" for
// idempotency: replaying a key with a different fingerprint is a conflict.
std::string fingerprint_of(const MovementRequest& request);

// A fresh random idempotency key ("wk-" + 32 hex digits).
std::string generate_idempotency_key();

// A positive transaction id or cursor; Invalid otherwise.
Result<int64_t> parse_id(const std::string& text, const std::string& what);

}  // namespace wallet
