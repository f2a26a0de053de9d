#include "daemon/api.hpp"

#include <spdlog/spdlog.h>

#include "core/domain/shapes.hpp"
#include "core/domain/status.hpp"
#include "core/domain/validate.hpp"
#include "daemon/body.hpp"
#include "reconcile/point_in_time.hpp"

namespace wallet::daemon {

namespace {

using nlohmann::json;

HttpResponse status_response(const Status& status, const json& extra = nullptr) {
  json body = error_json(status);
  if (extra.is_object()) body["error"].update(extra);
  HttpResponse r{http_status(status.code()), body.dump(), "application/json", {}};
  if (status.code() == Code::temporary) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse json_response(int status, const json& body) { return {status, body.dump(), "application/json", {}}; }

Result<int> limit_of(const HttpRequest& r, int fallback) {
  auto text = r.query_param("limit");
  if (!text) return fallback;
  auto parsed = parse_id(*text, "limit");
  if (!parsed.ok() || *parsed > 1'000'000) return Status::Invalid("invalid limit \"" + text->substr(0, 20) + "\"");
  return static_cast<int>(*parsed);
}

std::optional<std::string> optional_query(const HttpRequest& r, const std::string& name) {
  auto value = r.query_param(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

}  // namespace

Api::Api(Pool& pool, Pool* read_pool, Metrics& metrics, const Config& config)
    : pool_(pool),
      read_pool_(read_pool != nullptr ? *read_pool : pool),
      metrics_(metrics),
      config_(config),
      wait_(config.daemon.request_timeout),
      authenticator_(config.daemon.tokens),
      limiter_(config.daemon.rate_limit_per_second) {}

HttpResponse Api::with_ledger(const std::function<HttpResponse(Ledger&, Store&)>& work) {
  return with_ledger(pool_, work);
}

HttpResponse Api::with_ledger(Pool& pool, const std::function<HttpResponse(Ledger&, Store&)>& work) {
  HttpResponse response;
  Status status = pool.with(wait_, [&](Ledger& ledger, Store& store) { response = work(ledger, store); });
  metrics_.set_pool(pool_.in_use(), pool_.size());
  if (!status.ok()) return status_response(status);
  return response;
}

namespace {
// The token the filter accepted for the request on this thread (the filter
// and the handler of one request run on the same thread).
thread_local std::size_t current_token = 0;
}  // namespace

std::string Api::actor(const HttpRequest&) const {
  // The token itself is a secret; the audit log names it by position.
  return "walletd:token" + std::to_string(current_token + 1);
}

std::optional<HttpResponse> Api::guard(const HttpRequest& r) {
  if (r.path == "/health") return std::nullopt;
  auto token = authenticator_.authenticate(r.header("authorization"));
  if (!token) {
    HttpResponse response = error_response(401, "unauthorized", "missing or invalid bearer token");
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
    return response;
  }
  current_token = *token;
  int retry_after = 1;
  if (!limiter_.allow(std::to_string(*token), retry_after)) {
    HttpResponse response = error_response(429, "rate_limited", "too many requests for this token");
    response.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return response;
  }
  return std::nullopt;
}

HttpResponse Api::movement(Operation op, const HttpRequest& r) {
  auto in = movement_input(op, r.body);
  if (!in.ok()) return status_response(in.status());
  in->idempotency_key = r.header("idempotency-key").value_or("");
  in->actor = actor(r);
  return with_ledger([&](Ledger& ledger, Store&) {
    auto result = ledger.move(*in);
    if (!result.ok()) {
      metrics_.movement(in->kind.empty() ? "unknown" : in->kind, std::string(code_name(result.status().code())));
      return status_response(result.status());
    }
    const Movement& m = *result;
    metrics_.movement(m.kind, m.replayed ? "replayed" : m.status);
    if (Status outcome = movement_outcome(m); !outcome.ok()) {
      return status_response(outcome, {{"transaction_id", m.transaction_id},
                                       {"idempotency_key", m.idempotency_key},
                                       {"status", m.status},
                                       {"replayed", m.replayed}});
    }
    return json_response(m.replayed ? 200 : 201, to_json(m));
  });
}

HttpResponse Api::transaction_action(const std::string& action, const HttpRequest& r) {
  const std::string& id = r.path_params.at(0);
  auto body = transaction_action_input(action, r.body);
  if (!body.ok()) return status_response(body.status());
  const std::string& amount = body->amount;
  const std::string& reason = body->reason;
  const std::string key = r.header("idempotency-key").value_or("");
  return with_ledger([&](Ledger& ledger, Store&) {
    auto result = action == "post"   ? ledger.post(id, amount, actor(r))
                  : action == "void" ? ledger.void_transaction(id, reason, actor(r))
                                     : ledger.reverse(id, key, actor(r));
    if (!result.ok()) return status_response(result.status());
    if (action == "reverse") {
      metrics_.movement("reversal", result->replayed ? "replayed" : result->status);
      if (Status outcome = movement_outcome(*result); !outcome.ok()) return status_response(outcome);
    }
    return json_response(result->replayed || action != "reverse" ? 200 : 201, to_json(*result));
  });
}

void Api::install(HttpServer& server) {
  server.filter([this](const HttpRequest& r) { return guard(r); });
  server.route("POST", "/v1/wallets", "wallets", [this](const HttpRequest& r) {
    auto body = wallet_input(r.body);
    if (!body.ok()) return status_response(body.status());
    const std::string& user = body->user;
    const std::string& asset = body->asset;
    return with_ledger([&](Ledger& ledger, Store&) {
      auto w = ledger.wallet_create(user, asset, actor(r));
      return w.ok() ? json_response(201, to_json(*w)) : status_response(w.status());
    });
  });
  server.route("GET", R"(/v1/users/([^/]+)/balances)", "balances", [this](const HttpRequest& r) {
    return with_ledger([&](Ledger& ledger, Store& store) {
      const auto at = optional_query(r, "at");
      auto list = at ? balances_at(store, r.path_params.at(0), optional_query(r, "asset"), *at)
                     : ledger.balances(r.path_params.at(0), optional_query(r, "asset"));
      if (!list.ok()) return status_response(list.status());
      json out = json::array();
      for (const auto& b : *list) out.push_back(to_json(b));
      return json_response(200, out);
    });
  });
  server.route("GET", R"(/v1/users/([^/]+)/history)", "history", [this](const HttpRequest& r) {
    auto limit = limit_of(r, kHistoryLimitDefault);
    if (!limit.ok()) return status_response(limit.status());
    HistoryQuery q;
    q.user = r.path_params.at(0);
    q.asset = optional_query(r, "asset");
    q.kind = optional_query(r, "kind");
    q.status = optional_query(r, "status");
    q.since = optional_query(r, "since");
    q.until = optional_query(r, "until");
    q.limit = *limit;
    const std::string cursor = r.query_param("cursor").value_or("");
    return with_ledger(read_pool_, [&](Ledger& ledger, Store&) {
      auto page = ledger.history(q, cursor);
      return page.ok() ? json_response(200, to_json(*page)) : status_response(page.status());
    });
  });
  server.route("POST", "/v1/deposits", "deposits", [this](const HttpRequest& r) { return movement(Operation::deposit, r); });
  server.route("POST", "/v1/withdrawals", "withdrawals",
               [this](const HttpRequest& r) { return movement(Operation::withdraw, r); });
  server.route("POST", "/v1/transfers", "transfers", [this](const HttpRequest& r) { return movement(Operation::transfer, r); });
  server.route("GET", R"(/v1/transactions/([^/]+))", "transaction", [this](const HttpRequest& r) {
    return with_ledger([&](Ledger& ledger, Store&) {
      auto d = ledger.transaction(r.path_params.at(0));
      return d.ok() ? json_response(200, to_json(*d)) : status_response(d.status());
    });
  });
  for (const char* action : {"post", "void", "reverse"}) {
    server.route("POST", std::string(R"(/v1/transactions/([^/]+)/)") + action, std::string("transaction_") + action,
                 [this, action = std::string(action)](const HttpRequest& r) { return transaction_action(action, r); });
  }
  server.route("GET", "/health", "health", [this](const HttpRequest&) {
    Status ping = Status::Ok();
    HttpResponse response = with_ledger([&](Ledger&, Store& store) {
      ping = store.ping();
      return HttpResponse{};
    });
    if (response.status != 200) return response;
    if (!ping.ok()) return status_response(Status::Temporary("database unreachable: " + ping.message()));
    return json_response(200, {{"status", "ok"}, {"database", "reachable"}});
  });
  server.route("GET", "/metrics", "metrics", [this](const HttpRequest&) {
    metrics_.set_pool(pool_.in_use(), pool_.size());
    return HttpResponse{200, metrics_.render(), "text/plain; version=0.0.4", {}};
  });
  server.route("GET", "/openapi.json", "openapi",
               [](const HttpRequest&) { return json_response(200, openapi_document()); });
}

}  // namespace wallet::daemon
