// The JSON shapes of every result (DESIGN §6), shared by walletctl -o json
// and walletd. Amounts are decimal strings in the asset's scale; timestamps
// are RFC 3339 UTC.
#pragma once

#include <nlohmann/json.hpp>

#include "core/domain/status.hpp"
#include "core/domain/types.hpp"

namespace wallet {

nlohmann::json to_json(const Asset& asset);
nlohmann::json to_json(const Wallet& wallet);
nlohmann::json to_json(const Balance& balance);
nlohmann::json to_json(const Movement& movement);
nlohmann::json to_json(const TransactionDetail& detail);
nlohmann::json to_json(const HistoryEntry& entry);
nlohmann::json to_json(const HistoryPage& page);
nlohmann::json to_json(const AuditRow& row);
nlohmann::json to_json(const MigrationState& state);

// {"error": {"code": "...", "message": "..."}}
nlohmann::json error_json(const Status& status);

// OpenAPI 3 schemas of the shapes walletd answers with, by name: Wallet,
// Balance, Movement, LedgerEntry, Transaction, HistoryEntry, History, Error.
// Written next to the to_json functions above, and held to them by
// tests/unit/openapi_test.cpp (every key written is in its schema and every
// property of a schema is written); enums come from the kinds table.
nlohmann::json shape_schemas();

}  // namespace wallet
