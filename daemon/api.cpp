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

// How walletd names an input field in a message: the header that carries
// the idempotency key, else the JSON field of the body.
std::string field_name(std::string_view field) {
  if (field == "key") return "Idempotency-Key";
  return "field \"" + std::string(field) + "\"";
}

HttpResponse status_response(const Status& status, const json& extra = nullptr) {
  json body = error_json(Status(status.code(), name_fields(status.message(), field_name)));
  if (extra.is_object()) body["error"].update(extra);
  HttpResponse r{http_status(status.code()), body.dump(), "application/json", {}};
  if (status.code() == Code::temporary) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse json_response(int status, const json& body) { return {status, body.dump(), "application/json", {}}; }

// The answer to a money movement: its HTTP status from the core's outcome table.
HttpResponse outcome_response(const MovementOutcome& outcome) {
  if (!outcome.ok()) return status_response(outcome.status(), outcome.error_fields());
  return json_response(outcome.http_status(), to_json(outcome.movement()));
}

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

// /health answers from its last check for this long.
constexpr std::chrono::milliseconds kHealthFresh{1'000};
// /health waits at most this long for a database session.
constexpr std::chrono::milliseconds kHealthSessionWait{250};

Api::Api(Pool& pool, Pool* read_pool, Metrics& metrics, const Config& config,
         std::function<void(int64_t)> settle_soon)
    : pool_(pool),
      read_pool_(read_pool != nullptr ? *read_pool : pool),
      metrics_(metrics),
      config_(config),
      settle_soon_(std::move(settle_soon)),
      wait_(config.daemon.request_timeout),
      authenticator_(config.daemon.named_tokens, config.daemon.tokens),
      limiter_(config.daemon.rate_limit_per_second, config.daemon.rate_limit_per_second),
      address_failures_(config.daemon.auth_failures_per_minute / 60.0, config.daemon.auth_failures_per_minute) {}

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

std::string Api::actor(const HttpRequest& r) const {
  // The token itself is a secret; the audit log names it by its name.
  return "walletd:" + r.principal;
}

std::optional<HttpResponse> Api::guard(HttpRequest& r) {
  if (r.path == "/health") return std::nullopt;
  // Before authentication: an address that keeps presenting bad tokens is
  // refused without its tokens being looked at (guessing gets slow).
  int retry_after = 1;
  if (address_failures_.exhausted(r.remote_address, retry_after)) {
    HttpResponse response =
        error_response(429, "rate_limited", "too many failed authentications from this address");
    response.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return response;
  }
  const Principal* token = authenticator_.authenticate(r.header("authorization"));
  if (token == nullptr) {
    address_failures_.charge(r.remote_address);
    HttpResponse response = error_response(401, "unauthorized", "missing or invalid bearer token");
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
    return response;
  }
  r.principal = token->name;
  if (!limiter_.allow(token->name, retry_after)) {
    HttpResponse response = error_response(429, "rate_limited", "too many requests for this token");
    response.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return response;
  }
  return std::nullopt;
}

std::optional<HttpResponse> Api::require(const HttpRequest& r, Scope scope) const {
  const Principal* token = authenticator_.find(r.principal);
  if (token != nullptr && token->has(scope)) return std::nullopt;
  const char* name = scope == kScopeRead ? "read" : scope == kScopeMove ? "move" : "operate";
  return error_response(403, "forbidden", "token \"" + r.principal + "\" lacks the " + name + " scope");
}

HttpResponse Api::movement(Operation op, const HttpRequest& r) {
  auto in = movement_input(op, r.body);
  if (!in.ok()) return status_response(in.status());
  in->idempotency_key = r.header("idempotency-key").value_or("");
  in->actor = actor(r);
  // The settlement command's first attempt is the worker's: a slow payout
  // must not hold this request, its database session and the row lock.
  in->settle_now = false;
  return with_ledger([&](Ledger& ledger, Store&) {
    MovementOutcome outcome = ledger.move(*in);
    if (!outcome.recorded()) {
      metrics_.movement(in->kind.empty() ? "unknown" : in->kind, std::string(code_name(outcome.status().code())));
    } else {
      metrics_.movement(outcome->kind, outcome.replayed() ? "replayed" : outcome->status);
    }
    if (outcome.recorded()) {
      const Movement& m = *outcome;
      if (m.kind == "withdraw" && m.status == "pending" && !m.replayed && ledger.settlement() != nullptr) {
        settle_soon_(m.transaction_id);
      }
    }
    return outcome_response(outcome);
  });
}

HttpResponse Api::transaction_action(const std::string& action, const HttpRequest& r) {
  const std::string& id = r.path_params.at(0);
  auto body = transaction_action_input(action, r.body);
  if (!body.ok()) return status_response(body.status());
  const std::string& amount = body->amount;
  const std::string& reason = body->reason;
  const std::string key = r.header("idempotency-key").value_or("");
  // reverse, and post or void of a settlement withdrawal or of another
  // token's hold, need operate; post and void of the token's own holds, move.
  const bool operate = require(r, kScopeOperate) == std::nullopt;
  if (!operate && (action == "reverse" || require(r, kScopeMove))) return *require(r, kScopeOperate);
  return with_ledger([&](Ledger& ledger, Store&) {
    if (!operate) {
      auto detail = ledger.transaction(id);
      if (!detail.ok()) return status_response(detail.status());
      if (detail->settle || detail->actor != actor(r)) {
        return error_response(403, "forbidden",
                              "token \"" + r.principal + "\" may " + action +
                                  " only holds it created that are not settlement withdrawals; this needs the "
                                  "operate scope");
      }
    }
    MovementOutcome outcome = action == "post"   ? ledger.post(id, amount, actor(r))
                              : action == "void" ? ledger.void_transaction(id, reason, actor(r))
                                                 : ledger.reverse(id, key, actor(r));
    if (action == "reverse" && outcome.recorded()) {
      metrics_.movement("reversal", outcome.replayed() ? "replayed" : outcome->status);
    }
    return outcome_response(outcome);
  });
}

HttpResponse Api::health() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(health_mutex_);
    if (health_last_ && (health_checking_ || now - health_checked_ < kHealthFresh)) return *health_last_;
    health_checking_ = true;
  }
  Status ping = Status::Ok();
  const Status session = pool_.with(kHealthSessionWait, [&](Ledger&, Store& store) { ping = store.ping(); });
  HttpResponse response;
  if (!session.ok()) {
    response = status_response(session);
  } else if (!ping.ok()) {
    response = status_response(Status::Temporary("database unreachable: " + ping.message()));
  } else {
    response = json_response(200, {{"status", "ok"}, {"database", "reachable"}});
  }
  std::lock_guard lock(health_mutex_);
  health_last_ = response;
  health_checked_ = std::chrono::steady_clock::now();
  health_checking_ = false;
  return response;
}

void Api::install(HttpServer& server) {
  server.filter([this](HttpRequest& r) { return guard(r); });
  // A handler that runs only for a token with `scope` (403 otherwise).
  const auto scoped = [this](Scope scope, HttpHandler handler) {
    return [this, scope, handler = std::move(handler)](const HttpRequest& r) {
      if (auto refused = require(r, scope)) return *refused;
      return handler(r);
    };
  };
  server.route("POST", "/v1/wallets", "wallets", scoped(kScopeMove, [this](const HttpRequest& r) {
    auto body = wallet_input(r.body);
    if (!body.ok()) return status_response(body.status());
    const std::string& user = body->user;
    const std::string& asset = body->asset;
    return with_ledger([&](Ledger& ledger, Store&) {
      auto w = ledger.wallet_create(user, asset, actor(r));
      return w.ok() ? json_response(201, to_json(*w)) : status_response(w.status());
    });
  }));
  server.route("GET", R"(/v1/users/([^/]+)/balances)", "balances", scoped(kScopeRead, [this](const HttpRequest& r) {
    return with_ledger([&](Ledger& ledger, Store& store) {
      const auto at = optional_query(r, "at");
      auto list = at ? balances_at(store, r.path_params.at(0), optional_query(r, "asset"), *at)
                     : ledger.balances(r.path_params.at(0), optional_query(r, "asset"));
      if (!list.ok()) return status_response(list.status());
      json out = json::array();
      for (const auto& b : *list) out.push_back(to_json(b));
      return json_response(200, out);
    });
  }));
  server.route("GET", R"(/v1/users/([^/]+)/history)", "history", scoped(kScopeRead, [this](const HttpRequest& r) {
    auto limit = limit_of(r, kHistoryLimitDefault);
    if (!limit.ok()) return status_response(limit.status());
    HistoryQuery q;
    q.user = r.path_params.at(0);
    q.asset = optional_query(r, "asset");
    q.kind = optional_query(r, "kind");
    q.status = optional_query(r, "status");
    q.since = optional_query(r, "since");
    q.until = optional_query(r, "until");
    q.reference = optional_query(r, "reference");
    q.limit = *limit;
    const std::string cursor = r.query_param("cursor").value_or("");
    return with_ledger(read_pool_, [&](Ledger& ledger, Store&) {
      auto page = ledger.history(q, cursor);
      return page.ok() ? json_response(200, to_json(*page)) : status_response(page.status());
    });
  }));
  server.route("POST", "/v1/deposits", "deposits",
               scoped(kScopeMove, [this](const HttpRequest& r) { return movement(Operation::deposit, r); }));
  server.route("POST", "/v1/withdrawals", "withdrawals",
               scoped(kScopeMove, [this](const HttpRequest& r) { return movement(Operation::withdraw, r); }));
  server.route("POST", "/v1/transfers", "transfers",
               scoped(kScopeMove, [this](const HttpRequest& r) { return movement(Operation::transfer, r); }));
  server.route("GET", R"(/v1/transactions/([^/]+))", "transaction", scoped(kScopeRead, [this](const HttpRequest& r) {
    return with_ledger([&](Ledger& ledger, Store&) {
      auto d = ledger.transaction(r.path_params.at(0));
      return d.ok() ? json_response(200, to_json(*d)) : status_response(d.status());
    });
  }));
  for (const char* action : {"post", "void", "reverse"}) {
    server.route("POST", std::string(R"(/v1/transactions/([^/]+)/)") + action, std::string("transaction_") + action,
                 [this, action = std::string(action)](const HttpRequest& r) { return transaction_action(action, r); });
  }
  server.route("GET", "/health", "health", [this](const HttpRequest&) { return health(); });
  server.route(
      "GET", "/metrics", "metrics", scoped(kScopeRead, [this, &server](const HttpRequest&) {
        metrics_.set_pool(pool_.in_use(), pool_.size());
        metrics_.set_connections(server.connections());
        return HttpResponse{200, metrics_.render(), "text/plain; version=0.0.4", {}};
      }),
      Dispatch::immediate);
  server.route("GET", "/openapi.json", "openapi",
               scoped(kScopeRead, [](const HttpRequest&) { return json_response(200, openapi_document()); }),
               Dispatch::immediate);
}

}  // namespace wallet::daemon
