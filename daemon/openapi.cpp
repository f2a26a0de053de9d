// The OpenAPI 3 description of walletd's routes, served at /openapi.json.
#include "core/domain/kinds.hpp"
#include "core/domain/shapes.hpp"
#include "core/domain/version.hpp"
#include "core/domain/validate.hpp"
#include "daemon/api.hpp"

namespace wallet::daemon {

namespace {

using nlohmann::json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json responses(int ok_status, const std::string& schema, std::initializer_list<int> errors) {
  json r = {{std::to_string(ok_status), {{"description", "success"}, {"content", {{"application/json", {{"schema", ref(schema)}}}}}}}};
  static const std::map<int, std::string> kMeaning = {
      {400, "invalid input"},      {401, "missing or bad bearer token"},      {404, "not found"},
      {409, "conflict: key reused for another request, exists, or invalid state change"},
      {413, "body larger than [daemon] body_bytes_max"},     {422, "insufficient funds"},               {429, "rate limited (Retry-After)"},
      {503, "database unavailable, or too many connections (Retry-After)"}};
  for (int code : errors) {
    r[std::to_string(code)] = {{"description", kMeaning.at(code)},
                               {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
    // Every route that takes a token needs a scope of it.
    if (code == 401) {
      r["403"] = {{"description", "the token lacks the scope (read, move, operate) this request needs"},
                  {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
    }
  }
  return r;
}

json body(const std::string& schema) {
  return {{"required", true}, {"content", {{"application/json", {{"schema", ref(schema)}}}}}};
}

json path_param(const std::string& name, const std::string& description) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"description", description}, {"schema", {{"type", "string"}}}};
}

json query_param(const std::string& name, const std::string& description) {
  return {{"name", name}, {"in", "query"}, {"required", false}, {"description", description}, {"schema", {{"type", "string"}}}};
}

json key_header() {
  return {{"name", "Idempotency-Key"}, {"in", "header"}, {"required", false},
          {"description", "1-128 printable characters; replaying it with the same request returns the original result"},
          {"schema", {{"type", "string"}, {"maxLength", kIdempotencyKeyMax}, {"pattern", "^[!-~]+$"}}}};
}

json movement_operation(const std::string& summary, const std::string& schema) {
  return {{"summary", summary},
          {"parameters", json::array({key_header()})},
          {"requestBody", body(schema)},
          {"responses", [&] {
             json r = responses(201, "Movement", {400, 401, 404, 409, 413, 422, 429, 503});
             r["200"] = {{"description", "replay of an earlier request with the same Idempotency-Key"},
                         {"content", {{"application/json", {{"schema", ref("Movement")}}}}}};
             return r;
           }()}};
}

// The kinds a request of this operation may name, from the kinds table.
json kind_enum(Operation operation) {
  json names = json::array();
  for (const auto& name : kind_names(operation)) names.push_back(std::string(name));
  return {{"type", "string"}, {"enum", names}};
}

json schemas() {
  const json amount = {{"type", "string"}, {"pattern", "^[0-9]+(\\.[0-9]+)?$"},
                       {"description", "decimal string, at most the asset's scale in decimals"}};
  const json text = {{"type", "string"}};
  // The input bounds of walletctl(1), LIMITS (core/domain/validate.hpp).
  const json user_id = {{"type", "string"}, {"pattern", "^[A-Za-z0-9._:@-]{1,64}$"}, {"maxLength", kUserIdMax}};
  const json asset_code = {{"type", "string"}, {"pattern", "^[A-Z0-9_]{2,12}$"}, {"maxLength", kAssetCodeMax}};
  const json memo = {{"type", "string"}, {"maxLength", kMemoMax},
                     {"description", "at most 500 bytes of UTF-8, no control or bidirectional-override characters"}};
  const json reason = {{"type", "string"}, {"maxLength", kReasonMax}, {"description", "at most 500 bytes, as a memo"}};
  const json reference = {{"type", "string"}, {"minLength", 1}, {"maxLength", kReferenceMax},
                          {"description", "the bank's or payout provider's id for the movement: 1 to 140 bytes, as a memo"}};
  json schemas = shape_schemas();
  schemas.update({
      {"WalletRequest", {{"type", "object"}, {"required", {"user", "asset"}}, {"additionalProperties", false},
                         {"properties", {{"user", user_id}, {"asset", asset_code}}}}},
      {"DepositRequest", {{"type", "object"}, {"required", {"user", "asset", "amount"}}, {"additionalProperties", false},
                          {"properties", {{"user", user_id}, {"asset", asset_code}, {"amount", amount},
                                          {"kind", kind_enum(Operation::deposit)},
                                          {"memo", memo}, {"reference", reference}, {"pending", {{"type", "boolean"}}}, {"timeout", text}}}}},
      {"WithdrawalRequest", {{"type", "object"}, {"required", {"user", "asset", "amount"}}, {"additionalProperties", false},
                             {"properties", {{"user", user_id}, {"asset", asset_code}, {"amount", amount},
                                             {"kind", kind_enum(Operation::withdraw)},
                                             {"memo", memo}, {"reference", reference}, {"pending", {{"type", "boolean"}}}, {"timeout", text}}}}},
      {"TransferRequest", {{"type", "object"}, {"required", {"from", "to", "asset", "amount"}}, {"additionalProperties", false},
                           {"properties", {{"from", user_id}, {"to", user_id}, {"asset", asset_code}, {"amount", amount}, {"memo", memo},
                                           {"reference", reference}, {"pending", {{"type", "boolean"}}}, {"timeout", text}}}}},
      {"PostRequest", {{"type", "object"}, {"additionalProperties", false}, {"properties", {{"amount", amount}}}}},
      {"VoidRequest", {{"type", "object"}, {"additionalProperties", false}, {"properties", {{"reason", reason}}}}},
      {"Balances", {{"type", "array"}, {"items", ref("Balance")}}},
      {"Health", {{"type", "object"}, {"properties", {{"status", text}, {"database", text}}}}},
  });
  return schemas;
}

}  // namespace

json openapi_document() {
  const json id = path_param("id", "transaction id");
  const json user = path_param("user", "external user id");
  json paths = {
      {"/v1/wallets", {{"post", {{"summary", "create a user's wallet for an asset"}, {"requestBody", body("WalletRequest")},
                                 {"responses", responses(201, "Wallet", {400, 401, 404, 409, 429, 503})}}}}},
      {"/v1/users/{user}/balances",
       {{"get", {{"summary", "a user's balances"}, {"parameters", json::array({user, query_param("asset", "only this asset"),
                                             query_param("at", "the balances as they were at this RFC 3339 time")})},
                 {"responses", responses(200, "Balances", {400, 401, 404, 429, 503})}}}}},
      {"/v1/users/{user}/history",
       {{"get", {{"summary", "a user's transactions, newest first, keyset-paginated"},
                 {"parameters", json::array({user, query_param("asset", "only this asset"), query_param("kind", "only this kind: " + or_list(kind_names())),
                                             query_param("status", "only this status: " + or_list(status_names())),
                                             query_param("since", "RFC 3339 time"), query_param("until", "RFC 3339 time"),
                                             query_param("limit", "1-1000, default 50"),
                                             query_param("cursor", "next_cursor of the previous page"),
                                             query_param("reference", "only the transactions with this reference")})},
                 {"responses", responses(200, "History", {400, 401, 404, 429, 503})}}}}},
      {"/v1/deposits", {{"post", movement_operation("credit a user from @treasury", "DepositRequest")}}},
      {"/v1/withdrawals", {{"post", movement_operation("debit a user to @settlement or @revenue (with a settlement command: answered pending, settled by the worker)", "WithdrawalRequest")}}},
      {"/v1/transfers", {{"post", movement_operation("move value between two users", "TransferRequest")}}},
      {"/v1/transactions/{id}", {{"get", {{"summary", "one transaction with its ledger entries"},
                                          {"parameters", json::array({id})},
                                          {"responses", responses(200, "Transaction", {400, 401, 404, 429, 503})}}}}},
      {"/v1/transactions/{id}/post", {{"post", {{"summary", "complete a hold, all or part"}, {"parameters", json::array({id})},
                                                {"requestBody", body("PostRequest")},
                                                {"responses", responses(200, "Movement", {400, 401, 404, 409, 429, 503})}}}}},
      {"/v1/transactions/{id}/void", {{"post", {{"summary", "release a hold"}, {"parameters", json::array({id})},
                                                {"requestBody", body("VoidRequest")},
                                                {"responses", responses(200, "Movement", {400, 401, 404, 409, 429, 503})}}}}},
      {"/v1/transactions/{id}/reverse",
       {{"post", {{"summary", "undo a posted transaction, at most once"}, {"parameters", json::array({id, key_header()})},
                  {"responses", responses(201, "Movement", {400, 401, 404, 409, 422, 429, 503})}}}}},
      {"/health", {{"get", {{"summary", "database reachable (no token needed)"}, {"security", json::array()},
                            {"responses", responses(200, "Health", {503})}}}}},
      {"/metrics", {{"get", {{"summary", "Prometheus metrics"},
                             {"responses", {{"200", {{"description", "text exposition format"}}}}}}}}},
      {"/openapi.json", {{"get", {{"summary", "this document"}, {"responses", {{"200", {{"description", "OpenAPI 3"}}}}}}}}},
  };
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "walletd"}, {"version", kVersion},
                    {"description", "The wallet ledger's JSON HTTP API. Amounts are decimal strings in the asset's scale."}}},
          {"security", json::array({{{"bearer", json::array()}}})},
          {"paths", paths},
          {"components", {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}, {"schemas", schemas()}}}};
}

}  // namespace wallet::daemon
