#include "core/domain/shapes.hpp"

#include "core/domain/amount.hpp"

namespace wallet {

namespace {

nlohmann::json optional_json(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const Asset& a) {
  return {{"code", a.code}, {"scale", a.scale}, {"name", a.name}, {"created_at", a.created_at}};
}

nlohmann::json to_json(const Wallet& w) {
  return {{"wallet_id", w.id},
          {"user", w.user},
          {"asset", w.asset},
          {"balance", format_amount(w.balance, w.scale)},
          {"reserved", format_amount(w.reserved, w.scale)},
          {"available", format_amount(w.balance - w.reserved, w.scale)},
          {"created_at", w.created_at}};
}

nlohmann::json to_json(const Balance& b) {
  return {{"user", b.user},
          {"asset", b.asset},
          {"balance", format_amount(b.balance, b.scale)},
          {"reserved", format_amount(b.reserved, b.scale)},
          {"available", format_amount(b.balance - b.reserved, b.scale)}};
}

nlohmann::json to_json(const Movement& m) {
  nlohmann::json j = {{"transaction_id", m.transaction_id},
                      {"idempotency_key", m.idempotency_key},
                      {"status", m.status},
                      {"kind", m.kind},
                      {"asset", m.asset},
                      {"amount", format_amount(m.amount, m.scale)},
                      {"from", m.from_user},
                      {"to", m.to_user},
                      {"memo", m.memo},
                      {"created_at", m.created_at},
                      {"expires_at", optional_json(m.expires_at)},
                      {"posted_amount", m.posted_amount ? nlohmann::json(format_amount(*m.posted_amount, m.scale))
                                                        : nlohmann::json(nullptr)},
                      {"replayed", m.replayed}};
  if (m.key_generated) j["key_generated"] = true;
  return j;
}

nlohmann::json to_json(const TransactionDetail& d) {
  nlohmann::json j = to_json(d.movement);
  j.erase("key_generated");
  j["updated_at"] = d.updated_at;
  j["attempts"] = d.attempts;
  j["next_attempt_at"] = optional_json(d.next_attempt_at);
  j["last_error"] = optional_json(d.last_error);
  j["settlement"] = d.settle;
  j["reverses"] = d.reverses_id ? nlohmann::json(*d.reverses_id) : nlohmann::json(nullptr);
  j["entries"] = nlohmann::json::array();
  for (const auto& e : d.entries) {
    const int scale = d.movement.scale;
    j["entries"].push_back({{"entry_id", e.id},
                            {"user", e.user},
                            {"wallet_id", e.wallet_id},
                            {"amount", format_amount(e.amount, scale)},
                            {"version", e.version},
                            {"balance_before", format_amount(e.balance_before, scale)},
                            {"balance_after", format_amount(e.balance_after, scale)},
                            {"hash", e.hash},
                            {"created_at", e.created_at}});
  }
  return j;
}

nlohmann::json to_json(const HistoryEntry& e) {
  return {{"transaction_id", e.transaction_id},
          {"kind", e.kind},
          {"status", e.status},
          {"asset", e.asset},
          {"amount", format_amount(e.amount, e.scale)},
          {"balance_after", e.balance_after ? nlohmann::json(format_amount(*e.balance_after, e.scale))
                                            : nlohmann::json(nullptr)},
          {"counterparty", e.counterparty},
          {"created_at", e.created_at},
          {"memo", e.memo}};
}

nlohmann::json to_json(const HistoryPage& page) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : page.entries) entries.push_back(to_json(e));
  return {{"entries", entries},
          {"next_cursor", page.next_cursor ? nlohmann::json(std::to_string(*page.next_cursor))
                                           : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const AuditRow& r) {
  nlohmann::json arguments = nlohmann::json::parse(r.arguments_json, nullptr, false);
  return {{"id", r.id},
          {"at", r.at},
          {"actor", r.actor},
          {"action", r.action},
          {"arguments", arguments.is_discarded() ? nlohmann::json(r.arguments_json) : arguments},
          {"outcome", r.outcome},
          {"transaction_id", r.transaction_id ? nlohmann::json(*r.transaction_id) : nlohmann::json(nullptr)},
          {"message", optional_json(r.message)}};
}

nlohmann::json to_json(const MigrationState& s) {
  return {{"type", s.type == MigrationState::Type::migration ? "migration" : "functions"},
          {"version", s.version ? nlohmann::json(*s.version) : nlohmann::json(nullptr)},
          {"name", s.name},
          {"applied_at", optional_json(s.applied_at)}};
}

nlohmann::json error_json(const Status& status) {
  return {{"error", {{"code", std::string(code_name(status.code()))}, {"message", status.message()}}}};
}

Status failure_status(const Movement& m) {
  if (m.error_code == "insufficient_funds") return Status::Insufficient(m.error_message);
  return Status::Conflict(m.error_message.empty() ? "transaction " + std::to_string(m.transaction_id) + " failed"
                                                  : m.error_message);
}

}  // namespace wallet
