// walletd's routes (DESIGN §7): the same operations, validation, JSON
// shapes and error meanings as walletctl, mapped to HTTP statuses by the
// one table in core/domain/status.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>

#include "core/config/config.hpp"
#include "daemon/guard.hpp"
#include "daemon/http.hpp"
#include "daemon/metrics.hpp"
#include "daemon/pool.hpp"

namespace wallet::daemon {

class Api {
 public:
  // `read_pool` (may be null: then `pool`) serves the history route, as
  // walletctl history reads from read_database. `settle_soon` is told the
  // id of every new withdrawal that waits for the settlement command (the
  // worker makes its first attempt; the request does not wait for it).
  Api(Pool& pool, Pool* read_pool, Metrics& metrics, const Config& config,
      std::function<void(int64_t)> settle_soon);

  // Registers every route and the authentication/rate-limit filter.
  void install(HttpServer& server);

 private:
  std::optional<HttpResponse> guard(HttpRequest& request);
  std::optional<HttpResponse> require(const HttpRequest& request, Scope scope) const;
  HttpResponse with_ledger(const std::function<HttpResponse(Ledger&, Store&)>& work);
  HttpResponse with_ledger(Pool& pool, const std::function<HttpResponse(Ledger&, Store&)>& work);
  HttpResponse movement(Operation operation, const HttpRequest& request);
  HttpResponse transaction_action(const std::string& action, const HttpRequest& request);
  HttpResponse health();
  std::string actor(const HttpRequest& request) const;

  Pool& pool_;
  Pool& read_pool_;
  Metrics& metrics_;
  const Config& config_;
  std::function<void(int64_t)> settle_soon_;
  std::chrono::milliseconds wait_;
  Authenticator authenticator_;
  RateLimiter limiter_;           // per token
  RateLimiter address_failures_;  // failed authentications per client address

  // /health's last answer: at most one database check at a time, and none
  // while the last answer is fresh, so unauthenticated callers cannot hold
  // database sessions.
  std::mutex health_mutex_;
  std::optional<HttpResponse> health_last_;
  std::chrono::steady_clock::time_point health_checked_;
  bool health_checking_ = false;
};

// The OpenAPI 3 description served at /openapi.json.
nlohmann::json openapi_document();

}  // namespace wallet::daemon
