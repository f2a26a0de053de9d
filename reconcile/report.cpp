// The reconcile report: its exit code and its JSON.
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
          {"verifier", r.verifier},
          {"checkpoint_advanced", r.checkpoint_advanced},
          {"drift", drift},
          {"stuck", stuck}};
}

}  // namespace wallet
