// Reconciliation and retry of stuck transactions (DESIGN §5), shared by
// `walletctl reconcile|retry` and walletd's worker. reconcile/ owns the
// checks (checks.cpp), their SQL (reconcile/sql/*.sql, one statement a
// file, embedded at build time), the report and the exit codes
// (report.cpp); it uses the store only for connections, transactions,
// retries and error mapping (core/store/query.hpp). retry.cpp drives stuck
// transactions through the store's claim-and-drive operation, which the
// ledger shares for a withdrawal's first settlement attempt.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "core/store/store.hpp"
#include "core/domain/types.hpp"

namespace wallet {

// Exit codes of reconcile and retry findings (DESIGN §6).
inline constexpr int kExitDrift = 10;  // drift or imbalance: page someone
inline constexpr int kExitStuck = 11;  // stuck transactions only: run retry

// Checks the ledger: verifies entries, hash chains, balances, reservations
// and sums from the last checkpoint (or from scratch when `full`), in one
// repeatable-read snapshot, lists transactions pending for longer than
// `stuck_after` (or due), and advances the checkpoint when everything is
// clean (not on a hot standby). Never changes balances. `progress(wallets
// done, wallets in all)` is called as chunks finish; it may be empty.
// Errors: the store's (temporary when the database stays unreachable).
Result<ReconcileReport> reconcile(Store& store, bool full, Milliseconds stuck_after,
                                  const std::function<void(int64_t, int64_t)>& progress);

// How many transactions reconcile would list as stuck (walletd's gauge).
Result<int64_t> stuck_count(Store& store, Milliseconds stuck_after);

// 10 when drift was found (it takes precedence), else 11 when transactions
// are stuck, else 0.
int exit_code_of(const ReconcileReport& report);

nlohmann::json to_json(const ReconcileReport& report);
nlohmann::json to_json(const Drift& drift);
nlohmann::json to_json(const Stuck& stuck);

// Most transactions one retry run handles (walletctl retry --limit): a run
// holds one connection and does them one by one, so this bounds its length.
inline constexpr int kRetryLimitMax = 100'000;

struct RetryReport {
  bool dry_run = false;
  std::vector<RetryAction> actions;
};

// Re-drives up to `limit` stuck transactions: settlements whose next
// attempt is due (when `settle` is given), holds past their expiry (voided).
// With `dry_run`, lists what it would do and changes nothing. A `limit`
// outside 1..kRetryLimitMax is Invalid. Safe to run
// from many processes at once: each transaction is claimed by one.
Result<RetryReport> retry(Store& store, const Store::SettlementHandler* settle, int limit, bool dry_run,
                          const std::string& actor);

// 0 when every transaction touched ended posted or voided (or none was
// due), 11 when some remain pending.
int exit_code_of(const RetryReport& report);

nlohmann::json to_json(const RetryAction& action);

}  // namespace wallet
