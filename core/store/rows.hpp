// Decoders of the rows the core's statements return (statements.cpp), and
// the parameter helpers they share. Internal to core/store. Each decoder
// checks the row's column count (see columns() in query.hpp) before it reads
// by position, so a statement and its decoder cannot drift apart silently.
#pragma once

#include <optional>
#include <string>

#include "core/domain/types.hpp"
#include "core/store/query.hpp"

namespace wallet::rows {

// NULL for an empty optional (libpqxx 6 sends a null const char* as NULL).
inline const char* param(const std::optional<std::string>& value) { return value ? value->c_str() : nullptr; }

std::optional<std::string> optional_text(const pqxx::field& field);
std::optional<int64_t> optional_int(const pqxx::field& field);

// The movement columns (WALLET_MOVEMENT_COLUMNS): the first 17 of `row`,
// which has `count` columns in all.
Movement movement_of(const pqxx::row& row, pqxx::row::size_type count = 17);
Asset asset_of(const pqxx::row& row);
Wallet wallet_of(const pqxx::row& row);
Balance balance_of(const pqxx::row& row);
HistoryEntry history_entry_of(const pqxx::row& row);
AuditRow audit_row_of(const pqxx::row& row);

// The transaction `id` with its entries, read in `query`'s transaction;
// nullopt if absent.
std::optional<TransactionDetail> read_detail(Query& query, int64_t id);

}  // namespace wallet::rows
