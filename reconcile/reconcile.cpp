#include "reconcile/reconcile.hpp"

#include "core/domain/amount.hpp"

namespace wallet {

namespace {

// Minor units as decimal text in the asset's scale; sums beyond int64 stay
// as the exact integer text they are.
nlohmann::json amount_text(const std::string& minor, int scale) {
  if (minor.empty()) return nullptr;
  try {
    std::size_t used = 0;
    const long long value = std::stoll(minor, &used);
    if (used == minor.size()) return format_amount(value, scale);
  } catch (const std::exception&) {  // beyond int64: fall through
  }
  return minor + " (minor units)";
}

}  // namespace

Result<ReconcileReport> reconcile(Store& store, bool full, Milliseconds stuck_after,
                                  const std::function<void(int64_t, int64_t)>& progress) {
  return store.reconcile(full, stuck_after, progress);
}

int exit_code_of(const ReconcileReport& report) {
  if (!report.drift.empty()) return kExitDrift;
  if (!report.stuck.empty()) return kExitStuck;
  return 0;
}

nlohmann::json to_json(const Drift& d) {
  nlohmann::json difference = nullptr;
  try {
    difference = amount_text(std::to_string(std::stoll(d.stored) - std::stoll(d.computed)), d.scale);
  } catch (const std::exception&) {  // not integers that fit: leave the difference out
  }
  return {{"check", d.check},
          {"wallet", d.wallet_id ? nlohmann::json(*d.wallet_id) : nlohmann::json(nullptr)},
          {"user", d.user.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.user)},
          {"asset", d.asset},
          {"transaction", d.transaction_id ? nlohmann::json(*d.transaction_id) : nlohmann::json(nullptr)},
          {"stored", amount_text(d.stored, d.scale)},
          {"computed", amount_text(d.computed, d.scale)},
          {"difference", difference},
          {"detail", d.detail}};
}

nlohmann::json to_json(const Stuck& s) {
  return {{"transaction", s.transaction_id}, {"kind", s.kind},         {"asset", s.asset},
          {"age_seconds", s.age_seconds},    {"attempts", s.attempts},
          {"last_error", s.last_error ? nlohmann::json(*s.last_error) : nlohmann::json(nullptr)},
          {"reason", s.reason}};
}

nlohmann::json to_json(const ReconcileReport& r) {
  nlohmann::json drift = nlohmann::json::array();
  for (const auto& d : r.drift) drift.push_back(to_json(d));
  nlohmann::json stuck = nlohmann::json::array();
  for (const auto& s : r.stuck) stuck.push_back(to_json(s));
  return {{"full", r.full},
          {"clean", r.drift.empty() && r.stuck.empty()},
          {"checked", {{"wallets", r.wallets}, {"entries", r.entries}, {"transactions", r.transactions},
                       {"assets", r.assets}}},
          {"elapsed_ms", r.elapsed_ms},
          {"standby", r.standby},
          {"checkpoint_advanced", r.checkpoint_advanced},
          {"drift", drift},
          {"stuck", stuck}};
}

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
