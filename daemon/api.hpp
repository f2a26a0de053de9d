// walletd's routes (DESIGN §7): the same operations, validation, JSON
// shapes and error meanings as walletctl, mapped to HTTP statuses by the
// one table in core/domain/status.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include "core/config/config.hpp"
#include "daemon/guard.hpp"
#include "daemon/http.hpp"
#include "daemon/metrics.hpp"
#include "daemon/pool.hpp"

namespace wallet::daemon {

class Api {
 public:
  // `read_pool` (may be null: then `pool`) serves the history route, as
  // walletctl history reads from read_database.
  Api(Pool& pool, Pool* read_pool, Metrics& metrics, const Config& config);

  // Registers every route and the authentication/rate-limit filter.
  void install(HttpServer& server);

 private:
  std::optional<HttpResponse> guard(const HttpRequest& request);
  HttpResponse with_ledger(const std::function<HttpResponse(Ledger&, Store&)>& work);
  HttpResponse with_ledger(Pool& pool, const std::function<HttpResponse(Ledger&, Store&)>& work);
  HttpResponse movement(Operation operation, const HttpRequest& request);
  HttpResponse transaction_action(const std::string& action, const HttpRequest& request);
  std::string actor(const HttpRequest& request) const;

  Pool& pool_;
  Pool& read_pool_;
  Metrics& metrics_;
  const Config& config_;
  std::chrono::milliseconds wait_;
  Authenticator authenticator_;
  RateLimiter limiter_;
};

// The OpenAPI 3 description served at /openapi.json.
nlohmann::json openapi_document();

}  // namespace wallet::daemon
