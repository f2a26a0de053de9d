// walletd's OpenAPI document against the JSON the code writes: every key
// any to_json (and any error) writes is a property of its schema, and every
// property of a schema is written.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "core/domain/shapes.hpp"
#include "core/ledger/outcome.hpp"
#include "daemon/api.hpp"

using namespace wallet;
using nlohmann::json;

namespace {

const json& schema_named(const json& document, const std::string& name) {
  const json& schemas = document["components"]["schemas"];
  REQUIRE_MESSAGE(schemas.contains(name), name);
  return schemas[name];
}

// Compares the keys of `value` with the properties of `schema`, recursing
// into nested objects and arrays of them; records what each side lacks.
void compare(const json& document, const json& schema_in, const json& value, const std::string& where,
             std::set<std::string>& unwritten, std::set<std::string>& undeclared) {
  const json& schema = schema_in.contains("$ref")
                           ? schema_named(document, schema_in["$ref"].get<std::string>().substr(21))
                           : schema_in;
  if (value.is_array()) {
    for (const auto& item : value) compare(document, schema["items"], item, where + "[]", unwritten, undeclared);
    return;
  }
  if (!value.is_object()) return;
  REQUIRE_MESSAGE(schema.contains("properties"), where);
  for (const auto& [key, property] : schema["properties"].items()) {
    if (!value.contains(key)) unwritten.insert(where + "." + key);
  }
  for (const auto& [key, member] : value.items()) {
    if (!schema["properties"].contains(key)) {
      undeclared.insert(where + "." + key);
      continue;
    }
    compare(document, schema["properties"][key], member, where + "." + key, unwritten, undeclared);
  }
}

Movement full_movement() {
  Movement m;
  m.transaction_id = 3;
  m.idempotency_key = "wk-1";
  m.key_generated = true;
  m.status = "posted";
  m.kind = "transfer";
  m.asset = "SGD";
  m.scale = 2;
  m.amount = 1050;
  m.from_user = "alice";
  m.to_user = "bob";
  m.created_at = "2026-01-01T00:00:00Z";
  m.expires_at = "2026-01-02T00:00:00Z";
  m.posted_amount = 1050;
  m.reference = "PO-2231";
  return m;
}

}  // namespace

TEST_CASE("the OpenAPI schemas declare exactly the keys walletd's answers write") {
  const json document = daemon::openapi_document();
  std::set<std::string> unwritten, undeclared;
  const auto check = [&](const std::string& schema, const json& value) {
    compare(document, schema_named(document, schema), value, schema, unwritten, undeclared);
  };

  check("Wallet", to_json(Wallet{1, "alice", "SGD", 2, 100, 10, "2026-01-01T00:00:00Z"}));
  check("Balance", to_json(Balance{"alice", "SGD", 2, 100, 10}));
  check("Movement", to_json(full_movement()));
  TransactionDetail detail;
  detail.movement = full_movement();
  detail.next_attempt_at = "2026-01-01T00:01:00Z";
  detail.last_error = "timeout";
  detail.reverses_id = 2;
  detail.entries.push_back(LedgerEntry{9, "alice", 1, -1050, 4, 2000, 950, "ab", "2026-01-01T00:00:00Z"});
  check("Transaction", to_json(detail));
  HistoryPage page;
  page.entries.push_back(
      HistoryEntry{3, "transfer", "posted", "SGD", 2, -1050, 950, "bob", "2026-01-01T00:00:00Z", "", "BANK-1"});
  page.next_cursor = 3;
  check("History", to_json(page));
  // Errors: a plain one, and a refusal recorded under its key.
  Movement failed = full_movement();
  failed.status = "failed";
  failed.error_code = "insufficient_funds";
  failed.error_message = "insufficient funds";
  const MovementOutcome refusal = MovementOutcome::created(failed);
  json error = error_json(refusal.status());
  error["error"].update(refusal.error_fields());
  check("Error", error);

  CHECK_MESSAGE(unwritten.empty(), "declared but never written: " << json(unwritten).dump());
  CHECK_MESSAGE(undeclared.empty(), "written but not declared: " << json(undeclared).dump());
}

TEST_CASE("the OpenAPI enums are the kinds table's") {
  const json document = daemon::openapi_document();
  const json& schemas = document["components"]["schemas"];
  CHECK(schemas["DepositRequest"]["properties"]["kind"]["enum"] == json({"deposit", "topup", "bonus"}));
  CHECK(schemas["WithdrawalRequest"]["properties"]["kind"]["enum"] == json({"withdraw", "purchase"}));
  CHECK(schemas["Movement"]["properties"]["kind"]["enum"].size() == 7);
  CHECK(schemas["Movement"]["properties"]["status"]["enum"] == json({"pending", "posted", "voided", "failed"}));
}

TEST_CASE("docs/openapi.json is the document walletd serves") {
  std::ifstream file(std::string(WALLET_SOURCE_DIR) + "/docs/openapi.json");
  REQUIRE_MESSAGE(file.good(), "cannot read docs/openapi.json");
  const json saved = json::parse(file, nullptr, false);
  REQUIRE_FALSE(saved.is_discarded());
  CHECK_MESSAGE(saved == daemon::openapi_document(),
                "docs/openapi.json differs from what walletd serves: regenerate it with "
                "`build/walletd openapi > docs/openapi.json`");
}

TEST_CASE("every operation has an id, a summary, its errors with the Error schema, and keys where they apply") {
  const json document = daemon::openapi_document();
  CHECK_FALSE(document["servers"].empty());
  CHECK(document["info"].contains("license"));
  std::set<std::string> ids;
  for (const auto& [path, operations] : document["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      CAPTURE(method + " " + path);
      CHECK(ids.insert(operation.value("operationId", "")).second);
      CHECK_FALSE(operation.value("summary", "").empty());
      const json& responses = operation["responses"];
      for (const char* code : {"400", "500", "503"}) CHECK(responses.contains(code));
      if (path != "/health") {
        for (const char* code : {"401", "403", "429"}) CHECK(responses.contains(code));
      }
      if (method == "post") CHECK(responses.contains("413"));
      for (const auto& [code, response] : responses.items()) {
        if (code >= "400") {
          CHECK(response["content"]["application/json"]["schema"] == json{{"$ref", "#/components/schemas/Error"}});
        }
      }
      // A request that creates a transaction takes an Idempotency-Key.
      const bool creates = path == "/v1/deposits" || path == "/v1/withdrawals" || path == "/v1/transfers" ||
                           path == "/v1/transactions/{id}/reverse";
      bool has_key = false;
      for (const auto& parameter : operation.value("parameters", json::array())) {
        has_key = has_key || parameter["name"] == "Idempotency-Key";
      }
      CHECK(has_key == creates);
      if (creates) {
        CHECK(responses.contains("409"));
        CHECK(responses.contains("422"));
      }
    }
  }
  CHECK(ids.size() == 13);
}
