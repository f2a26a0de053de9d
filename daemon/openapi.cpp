// The OpenAPI 3 description of walletd's routes, served at /openapi.json.
#include "core/domain/kinds.hpp"
#include "core/domain/shapes.hpp"
#include "core/domain/version.hpp"
#include "core/domain/validate.hpp"
#include "daemon/api.hpp"

#include <map>
#include <set>

namespace wallet::daemon {

namespace {

using nlohmann::json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json json_content(const json& schema, const json& example = nullptr) {
  json media = {{"schema", schema}};
  if (!example.is_null()) media["example"] = example;
  return {{"application/json", media}};
}

// What each error status means, for every route that can answer it.
// 400, 413 and 503 also come from the HTTP layer (a malformed request, a
// body past [daemon] body_bytes_max, one connection past connections_max);
// 401, 403 and 429 from the token and rate-limit checks of every route
// but /health.
json error_response(int code) {
  static const std::map<int, std::string> kMeaning = {
      {400, "invalid input, or a malformed HTTP request"},
      {401, "missing or bad bearer token (WWW-Authenticate: Bearer)"},
      {403, "the token lacks the scope (read, move, operate) this request needs"},
      {404, "not found"},
      {409, "conflict: key reused for another request, exists, or invalid state change"},
      {413, "body larger than [daemon] body_bytes_max"},
      {422, "insufficient funds; recorded as a failed transaction under its key, so a replay gives the same answer"},
      {429, "rate limited, per token or per address after repeated 401s (Retry-After)"},
      {500, "internal error"},
      {503, "database unavailable, no session free in time, or too many connections (Retry-After; safe to retry "
            "with the same Idempotency-Key)"}};
  json r = {{"description", kMeaning.at(code)}, {"content", json_content(ref("Error"))}};
  if (code == 429 || code == 503) {
    r["headers"] = {{"Retry-After",
                     {{"description", "seconds to wait before retrying"}, {"schema", {{"type", "integer"}}}}}};
  }
  return r;
}

// The answers of an operation: its success and the given errors. Every
// route can answer 400, 500 and 503 (the HTTP layer); every route with a
// token also 401, 403 and 429.
json responses_of(int ok_status, const json& ok_content, std::initializer_list<int> errors, bool token = true) {
  json r = {{std::to_string(ok_status), {{"description", "success"}, {"content", ok_content}}}};
  std::set<int> codes(errors);
  codes.insert({400, 500, 503});
  if (token) codes.insert({401, 403, 429});
  for (int code : codes) r[std::to_string(code)] = error_response(code);
  return r;
}

json responses(int ok_status, const std::string& schema, std::initializer_list<int> errors) {
  return responses_of(ok_status, json_content(ref(schema)), errors);
}

json body(const std::string& schema, const json& example = nullptr) {
  return {{"required", true}, {"content", json_content(ref(schema), example)}};
}

json path_param(const std::string& name, const std::string& description) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"description", description}, {"schema", {{"type", "string"}}}};
}

json query_param(const std::string& name, const std::string& description) {
  return {{"name", name}, {"in", "query"}, {"required", false}, {"description", description}, {"schema", {{"type", "string"}}}};
}

json key_header() {
  return {{"name", "Idempotency-Key"}, {"in", "header"}, {"required", false},
          {"description", "1-128 printable characters; replaying it with the same request returns the original "
                          "result, with another request is a 409. Without it a key is generated and returned."},
          {"schema", {{"type", "string"}, {"maxLength", kIdempotencyKeyMax}, {"pattern", "^[!-~]+$"}}},
          {"example", "order-1001"}};
}

json operation(const std::string& id, const std::string& summary, json fields) {
  fields["operationId"] = id;
  fields["summary"] = summary;
  return fields;
}

// An answer in the Movement shape, as a deposit of 10.50 SGD gets it.
json movement_example(const std::string& kind, const std::string& from, const std::string& to) {
  return {{"transaction_id", 42},         {"idempotency_key", "order-1001"}, {"status", "posted"},
          {"kind", kind},                 {"asset", "SGD"},                  {"amount", "10.50"},
          {"posted_amount", "10.50"},     {"from", from},                    {"to", to},
          {"memo", "order 1001"},         {"created_at", "2026-12-01T09:30:00.000000Z"},
          {"reference", nullptr},         {"expires_at", nullptr},           {"replayed", false}};
}

json movement_operation(const std::string& id, const std::string& summary, const std::string& schema,
                        const json& request_example, const json& answer_example) {
  json r = responses_of(201, json_content(ref("Movement"), answer_example), {404, 409, 413, 422});
  json replay = answer_example;
  replay["replayed"] = true;
  r["200"] = {{"description", "replay of an earlier request with the same Idempotency-Key"},
              {"content", json_content(ref("Movement"), replay)}};
  return operation(id, summary,
                   {{"parameters", json::array({key_header()})}, {"requestBody", body(schema, request_example)},
                    {"responses", r}});
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
      {"ReverseRequest", {{"type", "object"}, {"additionalProperties", false}, {"properties", json::object()},
                          {"description", "no fields: send {}"}}},
      {"Balances", {{"type", "array"}, {"items", ref("Balance")}}},
      {"Health", {{"type", "object"}, {"properties", {{"status", text}, {"database", text}}}}},
  });
  return schemas;
}

}  // namespace

json openapi_document() {
  const json id = path_param("id", "transaction id");
  const json user = path_param("user", "external user id");
  const json hold_example = movement_example("transfer", "alice", "bob");
  json posted = hold_example;
  posted["amount"] = "10.50";
  posted["posted_amount"] = "8.00";
  json voided = hold_example;
  voided["status"] = "voided";
  voided["posted_amount"] = nullptr;
  json reversal = movement_example("reversal", "user_001", "@treasury");
  reversal["transaction_id"] = 43;
  reversal["idempotency_key"] = "undo-42";
  reversal["memo"] = "";
  const json text_content = {{"text/plain", {{"schema", {{"type", "string"}}}}}};
  json paths = {
      {"/v1/wallets",
       {{"post", operation("createWallet", "Create a user's wallet for an asset",
                           {{"requestBody", body("WalletRequest", {{"user", "user_001"}, {"asset", "SGD"}})},
                            {"responses", responses(201, "Wallet", {404, 409, 413})}})}}},
      {"/v1/users/{user}/balances",
       {{"get", operation("getBalances", "A user's balances",
                          {{"parameters", json::array({user, query_param("asset", "only this asset"),
                                                      query_param("at", "the balances as they were at this RFC 3339 time")})},
                           {"responses", responses(200, "Balances", {404})}})}}},
      {"/v1/users/{user}/history",
       {{"get", operation("getHistory", "A user's transactions, newest first, keyset-paginated",
                          {{"parameters",
                            json::array({user, query_param("asset", "only this asset"),
                                         query_param("kind", "only this kind: " + or_list(kind_names())),
                                         query_param("status", "only this status: " + or_list(status_names())),
                                         query_param("since", "RFC 3339 time"), query_param("until", "RFC 3339 time"),
                                         query_param("limit", "1-1000, default 50"),
                                         query_param("cursor", "next_cursor of the previous page"),
                                         query_param("reference", "only the transactions with this reference")})},
                           {"responses", responses(200, "History", {404})}})}}},
      {"/v1/deposits",
       {{"post", movement_operation("createDeposit", "Credit a user from @treasury", "DepositRequest",
                                    {{"user", "user_001"}, {"asset", "SGD"}, {"amount", "10.50"}, {"memo", "order 1001"}},
                                    movement_example("deposit", "@treasury", "user_001"))}}},
      {"/v1/withdrawals",
       {{"post", movement_operation(
                     "createWithdrawal",
                     "Debit a user to @settlement or @revenue (with a settlement command: answered pending, settled "
                     "by the worker)",
                     "WithdrawalRequest",
                     {{"user", "user_001"}, {"asset", "SGD"}, {"amount", "10.50"}, {"memo", "order 1001"}},
                     movement_example("withdraw", "user_001", "@settlement"))}}},
      {"/v1/transfers",
       {{"post", movement_operation("createTransfer", "Move value between two users", "TransferRequest",
                                    {{"from", "alice"}, {"to", "bob"}, {"asset", "SGD"}, {"amount", "10.50"},
                                     {"memo", "order 1001"}},
                                    movement_example("transfer", "alice", "bob"))}}},
      {"/v1/transactions/{id}",
       {{"get", operation("getTransaction", "One transaction with its ledger entries",
                          {{"parameters", json::array({id})}, {"responses", responses(200, "Transaction", {404})}})}}},
      {"/v1/transactions/{id}/post",
       {{"post", operation("postTransaction", "Complete a hold, all or part",
                           {{"parameters", json::array({id})},
                            {"requestBody", body("PostRequest", {{"amount", "8.00"}})},
                            {"responses", responses_of(200, json_content(ref("Movement"), posted), {404, 409, 413})}})}}},
      {"/v1/transactions/{id}/void",
       {{"post", operation("voidTransaction", "Release a hold",
                           {{"parameters", json::array({id})},
                            {"requestBody", body("VoidRequest", {{"reason", "order cancelled"}})},
                            {"responses", responses_of(200, json_content(ref("Movement"), voided), {404, 409, 413})}})}}},
      {"/v1/transactions/{id}/reverse",
       {{"post", operation("reverseTransaction", "Undo a posted transaction, at most once",
                           {{"parameters", json::array({id, key_header()})},
                            {"requestBody", body("ReverseRequest", json::object())},
                            {"responses",
                             responses_of(201, json_content(ref("Movement"), reversal), {404, 409, 413, 422})}})}}},
      {"/health",
       {{"get", operation("getHealth", "Database reachable (no token needed)",
                          {{"security", json::array()},
                           {"responses", responses_of(200, json_content(ref("Health"), {{"status", "ok"}, {"database", "reachable"}}),
                                                   {}, false)}})}}},
      {"/metrics",
       {{"get", operation("getMetrics", "Prometheus metrics (text exposition format 0.0.4)",
                          {{"responses", responses_of(200, text_content, {})}})}}},
      {"/openapi.json",
       {{"get", operation("getOpenApi", "This document",
                          {{"responses", responses_of(200, {{"application/json", {{"schema", {{"type", "object"}}}}}}, {})}})}}},
  };
  const json bearer = {{"type", "http"},
                       {"scheme", "bearer"},
                       {"description", "a token of [[daemon.tokens]]; its scopes: read (balances, history, "
                                       "transactions, metrics, this document), move (wallets, movements, post and "
                                       "void of its own holds), operate (reverse, any hold)"}};
  json components = {{"securitySchemes", {{"bearer", bearer}}}, {"schemas", schemas()}};
  json info = {{"title", "walletd"},
               {"version", kVersion},
               {"description", "The wallet ledger's JSON HTTP API (walletd(8)). Amounts are decimal strings in the "
                               "asset's scale; timestamps are RFC 3339 UTC."},
               // The repository's LICENSE (relative: the project publishes no URL of its own).
               {"license", {{"name", "Proprietary, all rights reserved"}, {"url", "LICENSE"}}}};
  json server = {{"url", "http://127.0.0.1:8080"},
                 {"description", "walletd's default [daemon] listen; https when tls_cert is set"}};
  return {{"openapi", "3.0.3"},
          {"info", info},
          {"servers", json::array({server})},
          {"security", json::array({{{"bearer", json::array()}}})},
          {"paths", paths},
          {"components", components}};
}

}  // namespace wallet::daemon
