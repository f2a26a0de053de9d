#include "core/store/rows.hpp"

namespace wallet::rows {

std::optional<std::string> optional_text(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

std::optional<int64_t> optional_int(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<int64_t>();
}

Movement movement_of(const pqxx::row& row, pqxx::row::size_type count) {
  columns(row, count);
  Movement m;
  m.transaction_id = row[0].as<int64_t>();
  m.idempotency_key = row[1].as<std::string>();
  m.status = row[2].as<std::string>();
  m.kind = row[3].as<std::string>();
  m.asset = row[4].as<std::string>();
  m.scale = row[5].as<int>();
  m.amount = row[6].as<int64_t>();
  m.from_user = row[7].as<std::string>();
  m.to_user = row[8].as<std::string>();
  m.memo = row[9].as<std::string>();
  m.created_at = row[10].as<std::string>();
  m.expires_at = optional_text(row[11]);
  m.replayed = row[12].as<bool>();
  m.error_code = optional_text(row[13]).value_or("");
  m.error_message = optional_text(row[14]).value_or("");
  m.posted_amount = optional_int(row[15]);
  m.reference = optional_text(row[16]);
  return m;
}

Asset asset_of(const pqxx::row& row) {
  columns(row, 4);
  return Asset{row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>(), row[3].as<std::string>()};
}

Wallet wallet_of(const pqxx::row& row) {
  columns(row, 7);
  return Wallet{row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<int>(),
                row[4].as<int64_t>(), row[5].as<int64_t>(),       row[6].as<std::string>()};
}

Balance balance_of(const pqxx::row& row) {
  columns(row, 5);
  return Balance{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(), row[3].as<int64_t>(),
                 row[4].as<int64_t>()};
}

HistoryEntry history_entry_of(const pqxx::row& row) {
  columns(row, 11);
  return HistoryEntry{row[0].as<int64_t>(),    row[1].as<std::string>(), row[2].as<std::string>(),
                      row[3].as<std::string>(), row[4].as<int>(),        row[5].as<int64_t>(),
                      optional_int(row[6]),     row[7].as<std::string>(), row[8].as<std::string>(),
                      row[9].as<std::string>(), optional_text(row[10])};
}

AuditRow audit_row_of(const pqxx::row& row) {
  columns(row, 8);
  return AuditRow{row[0].as<int64_t>(),     row[1].as<std::string>(), row[2].as<std::string>(),
                  row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>(),
                  optional_int(row[6]),     optional_text(row[7])};
}

namespace {

LedgerEntry entry_of(const pqxx::row& e) {
  columns(e, 9);
  return LedgerEntry{e[0].as<int64_t>(), e[1].as<std::string>(), e[2].as<int64_t>(),
                     e[3].as<int64_t>(), e[4].as<int64_t>(),     e[5].as<int64_t>(),
                     e[6].as<int64_t>(), e[7].as<std::string>(), e[8].as<std::string>()};
}

}  // namespace

std::optional<TransactionDetail> read_detail(Query& query, int64_t id) {
  const pqxx::result rows = query.exec("transaction", id);
  if (rows.empty()) return std::nullopt;
  const pqxx::row& row = rows[0];
  TransactionDetail d;
  d.movement = movement_of(row, 24);  // the movement, then the transaction's own columns
  d.updated_at = row[17].as<std::string>();
  d.attempts = row[18].as<int>();
  d.next_attempt_at = optional_text(row[19]);
  d.last_error = optional_text(row[20]);
  d.reverses_id = optional_int(row[21]);
  d.settle = row[22].as<bool>();
  d.actor = row[23].as<std::string>();
  for (const auto& e : query.exec("entries", id)) d.entries.push_back(entry_of(e));
  return d;
}

}  // namespace wallet::rows
