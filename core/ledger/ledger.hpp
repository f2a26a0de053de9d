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

#include "core/config/config.hpp"
#include "core/store/store.hpp"
#include "core/domain/types.hpp"
#include "core/ledger/outcome.hpp"

namespace wallet {

class Ledger {
 public:
  Ledger(Store& store, const Config& config);
  Ledger(const Ledger&) = delete;  // settlement_ refers to this object
  Ledger& operator=(const Ledger&) = delete;

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
  // applied or held; insufficient_funds (recorded as failed) or rejected
  // (a withdrawal the settlement command refused); refused with Invalid,
  // NotFound, Conflict (key reused for another request) or Temporary.
  MovementOutcome move(const MovementInput& input);
  Result<TransactionDetail> transaction(const std::string& id_text);
  Result<HistoryPage> history(HistoryQuery query, const std::string& cursor_text);
  Result<std::vector<AuditRow>> audit(AuditQuery query);

  // Two-phase transfers: complete (all or part of) a hold (completed),
  // release it (released), or reverse a posted transaction with its own
  // idempotency key (as move). A transaction in the wrong state is refused
  // with Conflict, an unknown one with NotFound.
  MovementOutcome post(const std::string& id_text, const std::string& amount_text, const std::string& actor);
  MovementOutcome void_transaction(const std::string& id_text, const std::string& reason, const std::string& actor);
  MovementOutcome reverse(const std::string& id_text, const std::string& key, const std::string& actor);

  // Runs the configured settlement command for a pending withdrawal;
  // nullptr when no [settlement] command is configured.
  const Store::SettlementHandler* settlement() const { return settlement_ ? &settlement_ : nullptr; }

 private:
  Result<MovementRequest> prepare(const MovementInput& input);
  Result<Movement> record(const MovementInput& input);
  SettlementOutcome settle_with_command(const TransactionDetail& detail) const;

  Store& store_;
  const Config& config_;
  Store::SettlementHandler settlement_;
};

// Pure helpers, exposed for unit tests.

// The debit and credit users and the kind of a movement (from the kinds
// table, core/domain/kinds.hpp); Invalid for a kind that does not belong to
// the operation.
struct Route {
  std::string kind;
  std::string from_user;
  std::string to_user;
  bool settles = false;  // waits for the settlement command when one is configured
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
