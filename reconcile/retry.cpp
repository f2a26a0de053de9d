// walletctl retry and walletd's worker: re-drives stuck transactions one
// by one through Store::drive_pending (which Ledger::move also uses for
// the first settlement attempt of a withdrawal).
#include "reconcile/reconcile.hpp"

namespace wallet {

Result<RetryReport> retry(Store& store, const Store::SettlementHandler* settle, int limit, bool dry_run,
                          const std::string& actor) {
  if (limit < 1 || limit > kRetryLimitMax) {
    return Status::Invalid("invalid limit " + std::to_string(limit) + ": 1 to " + std::to_string(kRetryLimitMax));
  }
  RetryReport report;
  report.dry_run = dry_run;
  if (dry_run) {
    auto due = store.due_pending(settle != nullptr, limit);
    if (!due.ok()) return due.status();
    report.actions = *due;
    return report;
  }
  std::string run_started;
  for (int i = 0; i < limit; ++i) {
    auto action = store.drive_pending(std::nullopt, settle, actor, &run_started);
    if (!action.ok()) {
      if (report.actions.empty()) return action.status();
      break;  // report what was done; the rest stays for the next run
    }
    if (!action->has_value()) break;
    report.actions.push_back(**action);
  }
  return report;
}

int exit_code_of(const RetryReport& report) {
  for (const auto& a : report.actions) {
    if (a.status == "pending") return kExitStuck;
  }
  return 0;
}

nlohmann::json to_json(const RetryAction& a) {
  return {{"transaction", a.transaction_id},
          {"kind", a.kind},
          {"action", a.action},
          {"status", a.status},
          {"attempts", a.attempts},
          {"next_attempt_at", a.next_attempt_at ? nlohmann::json(*a.next_attempt_at) : nlohmann::json(nullptr)},
          {"detail", a.detail}};
}

}  // namespace wallet
