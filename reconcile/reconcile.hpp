// Reconciliation and retry of stuck transactions (DESIGN §5), shared by
// `walletctl reconcile|retry` and walletd's worker.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "core/store/store.hpp"
#include "core/domain/types.hpp"

namespace wallet {

// Exit codes of reconcile and retry findings (DESIGN §6).
inline constexpr int kExitDrift = 10;  // drift or imbalance: page someone
inline constexpr int kExitStuck = 11;  // stuck transactions only: run retry

// Checks the ledger (see Store::reconcile). `progress(done, total)` may be empty.
Result<ReconcileReport> reconcile(Store& store, bool full, Milliseconds stuck_after,
                                  const std::function<void(int64_t, int64_t)>& progress);

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
