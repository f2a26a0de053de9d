#include "core/domain/shapes.hpp"

#include "core/domain/amount.hpp"
#include "core/domain/kinds.hpp"

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
                      {"reference", optional_json(m.reference)},
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
          {"memo", e.memo},
          {"reference", optional_json(e.reference)}};
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

namespace {

using nlohmann::json;

json object(json properties) { return {{"type", "object"}, {"properties", std::move(properties)}}; }
json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json names_enum(const std::vector<std::string_view>& names) {
  json values = json::array();
  for (const auto& n : names) values.push_back(std::string(n));
  return {{"type", "string"}, {"enum", values}};
}

}  // namespace

nlohmann::json shape_schemas() {
  const json amount = {{"type", "string"}, {"pattern", "^-?[0-9]+(\\.[0-9]+)?$"},
                       {"description", "decimal string in the asset's scale"}};
  const json nullable_amount = {{"type", "string"}, {"nullable", true}, {"description", "decimal string, or null"}};
  const json text = {{"type", "string"}};
  const json nullable_text = {{"type", "string"}, {"nullable", true}};
  const json integer = {{"type", "integer"}};
  const json boolean = {{"type", "boolean"}};
  json movement = object({{"transaction_id", integer},
                          {"idempotency_key", text},
                          {"key_generated", {{"type", "boolean"}, {"description", "present (true) when the key was generated"}}},
                          {"status", names_enum(status_names())},
                          {"kind", names_enum(kind_names())},
                          {"asset", text},
                          {"amount", amount},
                          {"posted_amount", nullable_amount},
                          {"from", text},
                          {"to", text},
                          {"memo", text},
                          {"reference", {{"type", "string"}, {"nullable", true},
                                         {"description", "the bank's or provider's id for it, or null"}}},
                          {"created_at", text},
                          {"expires_at", nullable_text},
                          {"replayed", boolean}});
  json transaction = movement;
  transaction["properties"].erase("key_generated");
  transaction["properties"].update({{"updated_at", text},
                                    {"attempts", integer},
                                    {"next_attempt_at", nullable_text},
                                    {"last_error", nullable_text},
                                    {"settlement", {{"type", "boolean"}, {"description", "waits for the settlement command"}}},
                                    {"reverses", {{"type", "integer"}, {"nullable", true}, {"description", "the transaction it reverses"}}},
                                    {"entries", {{"type", "array"}, {"items", ref("LedgerEntry")}}}});
  std::string codes;
  for (Code code : {Code::internal, Code::invalid, Code::insufficient_funds, Code::not_found, Code::conflict,
                    Code::temporary}) {
    codes += (codes.empty() ? "" : ", ") + std::string(code_name(code));
  }
  // Not an enum: the HTTP layer adds codes of its own (unauthorized, rate_limited, ...).
  const json code = {{"type", "string"}, {"description", "machine-readable: " + codes + ", or one of the HTTP layer"}};
  return {
      {"Wallet", object({{"wallet_id", integer}, {"user", text}, {"asset", text}, {"balance", amount},
                         {"reserved", amount}, {"available", amount}, {"created_at", text}})},
      {"Balance", object({{"user", text}, {"asset", text}, {"balance", amount}, {"reserved", amount},
                          {"available", amount}})},
      {"Movement", movement},
      {"LedgerEntry", object({{"entry_id", integer}, {"user", text}, {"wallet_id", integer}, {"amount", amount},
                              {"version", integer}, {"balance_before", amount}, {"balance_after", amount},
                              {"hash", text}, {"created_at", text}})},
      {"Transaction", transaction},
      {"HistoryEntry", object({{"transaction_id", integer}, {"kind", names_enum(kind_names())},
                               {"status", names_enum(status_names())}, {"asset", text}, {"amount", amount},
                               {"balance_after", nullable_amount}, {"counterparty", text}, {"created_at", text},
                               {"memo", text}, {"reference", nullable_text}})},
      {"History", object({{"entries", {{"type", "array"}, {"items", ref("HistoryEntry")}}},
                          {"next_cursor", nullable_text}})},
      {"Error", object({{"error", object({{"code", code},
                                          {"message", text},
                                          {"transaction_id", integer},
                                          {"idempotency_key", text},
                                          {"status", names_enum(status_names())},
                                          {"replayed", boolean}})}})},
  };
}

}  // namespace wallet
