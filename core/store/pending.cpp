// Pending transactions: claiming one and driving it to its end (settlement
// through the settlement command, expiry of holds), for the first
// settlement attempt of Ledger::move, walletctl retry and walletd's worker.
#include <random>

#include "core/store/query.hpp"
#include "core/store/rows.hpp"
#include "core/store/store.hpp"

namespace wallet {

namespace {

// The row of claim_transaction or claim_due.
struct Claim {
  int64_t id = 0;
  bool settle = false;
};

Claim claim_of(const pqxx::row& row) { return Claim{row["claimed_id"].as<int64_t>(), row["claimed_settle"].as<bool>()}; }

// Drives the claimed transaction `claim` (detail read in the same
// transaction) and returns what was done; nullopt for a settlement with no
// command here to decide it.
std::optional<RetryAction> drive(Query& query, const Claim& claim, const TransactionDetail& detail,
                                 const Store::SettlementHandler* settle, const std::string& actor) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  RetryAction a;
  a.transaction_id = claim.id;
  a.kind = detail.movement.kind;
  const std::string arguments = "{\"transaction\": " + std::to_string(claim.id) + "}";
  std::optional<Movement> after;
  if (!claim.settle) {
    a.action = "voided";
    a.detail = "hold expired at " + detail.movement.expires_at.value_or("?");
    after = rows::movement_of(query.exec1("void", claim.id, a.detail, actor, arguments));
  } else if (settle == nullptr) {
    return std::nullopt;  // a settlement, but no command configured here: leave it
  } else {
    const SettlementOutcome outcome = (*settle)(detail);
    a.detail = outcome.reason;
    if (outcome.decision == SettlementDecision::retry) {
      const auto delay = settlement_backoff(detail.attempts + 1, random);
      a.action = "deferred";
      after = rows::movement_of(query.exec1("settlement_deferred", claim.id, outcome.reason,
                                            static_cast<int64_t>(delay.count()), actor));
    } else {
      query.exec("settlement_attempted", claim.id);
      if (outcome.decision == SettlementDecision::confirmed) {
        if (!outcome.reference.empty()) query.exec("settlement_reference", claim.id, outcome.reference);
        a.action = "posted";
        after = rows::movement_of(query.exec1("post", claim.id, nullptr, actor, arguments));
      } else {
        a.action = "voided";
        after = rows::movement_of(query.exec1("void", claim.id, outcome.reason, actor, arguments));
      }
    }
  }
  const auto final_detail = rows::read_detail(query, claim.id);
  // Claimed and changed in this transaction: it cannot have gone away.
  if (!final_detail) throw std::logic_error("transaction " + std::to_string(claim.id) + " vanished while claimed");
  a.status = after->status;
  a.attempts = final_detail->attempts;
  a.next_attempt_at = final_detail->next_attempt_at;
  return a;
}

}  // namespace

Result<std::optional<RetryAction>> Store::drive_pending(std::optional<int64_t> id, const SettlementHandler* settle,
                                                        const std::string& actor, std::string* run_started) {
  const std::optional<std::string> cutoff =
      run_started != nullptr && !run_started->empty() ? std::optional<std::string>(*run_started) : std::nullopt;
  return transact<pqxx::work>(*this, "retry", [&](Query& query) -> std::optional<RetryAction> {
    const pqxx::result claimed =
        id ? query.exec("claim_transaction", *id) : query.exec("claim_due", settle != nullptr, rows::param(cutoff));
    if (claimed.empty()) return std::nullopt;
    if (!id && run_started != nullptr && run_started->empty()) {
      *run_started = claimed[0]["claimed_run_started"].as<std::string>();
    }
    const Claim claim = claim_of(claimed[0]);
    const auto detail = rows::read_detail(query, claim.id);
    // The claim holds the row locked: it exists.
    if (!detail) throw std::logic_error("claimed transaction " + std::to_string(claim.id) + " not found");
    return drive(query, claim, *detail, settle, actor);
  });
}

Result<std::vector<RetryAction>> Store::due_pending(bool settle_enabled, int limit) {
  return transact<pqxx::read_transaction>(*this, "retry --dry-run", [&](Query& query) {
    std::vector<RetryAction> actions;
    for (const auto& row : query.exec("due", settle_enabled, limit)) {
      auto detail = rows::read_detail(query, columns(row, 2)[0].as<int64_t>());
      if (!detail) continue;
      RetryAction a;
      a.transaction_id = detail->movement.transaction_id;
      a.kind = detail->movement.kind;
      a.status = detail->movement.status;
      a.attempts = detail->attempts;
      a.next_attempt_at = detail->next_attempt_at;
      const bool is_settlement = row[1].as<bool>();
      a.action = is_settlement ? "would-settle" : "would-void";
      a.detail = is_settlement ? "settlement attempt due" : "hold expired at " + detail->movement.expires_at.value_or("?");
      actions.push_back(a);
    }
    return actions;
  });
}

}  // namespace wallet
