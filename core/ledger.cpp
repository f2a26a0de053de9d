#include "core/ledger.hpp"

#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/amount.hpp"
#include "core/validate.hpp"

namespace wallet {

namespace {

const char* operation_name(Operation op) {
  switch (op) {
    case Operation::deposit: return "deposit";
    case Operation::withdraw: return "withdraw";
    case Operation::transfer: return "transfer";
  }
  return "?";
}

std::string arguments_of(const MovementInput& in, const std::string& key) {
  nlohmann::json args = {{"user", in.user}, {"asset", in.asset}, {"amount", in.amount},
                         {"key", key}};
  if (!in.to_user.empty()) args["to"] = in.to_user;
  if (!in.kind.empty()) args["kind"] = in.kind;
  if (!in.memo.empty()) args["memo"] = in.memo;
  if (in.pending) args["pending"] = true;
  if (in.timeout) args["timeout"] = format_duration(*in.timeout);
  return args.dump();
}

// Stops at the first failing status.
Status first_error(std::initializer_list<Status> statuses) {
  for (const auto& s : statuses) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Result<Route> route_of(const MovementInput& in) {
  const std::string kind = in.kind.empty() ? operation_name(in.operation) : in.kind;
  switch (in.operation) {
    case Operation::deposit:
      if (kind != "deposit" && kind != "topup" && kind != "bonus") {
        return Status::Invalid("invalid kind \"" + kind + "\" for deposit: deposit, topup or bonus");
      }
      return Route{kind, "@treasury", in.user};
    case Operation::withdraw:
      if (kind == "withdraw") return Route{kind, in.user, "@settlement"};
      if (kind == "purchase") return Route{kind, in.user, "@revenue"};
      return Status::Invalid("invalid kind \"" + kind + "\" for withdraw: withdraw or purchase");
    case Operation::transfer:
      if (kind != "transfer") return Status::Invalid("invalid kind \"" + kind + "\" for transfer");
      if (in.user == in.to_user) return Status::Invalid("cannot transfer from " + in.user + " to itself");
      return Route{kind, in.user, in.to_user};
  }
  return Status::Internal("unknown operation");
}

std::string fingerprint_of(const MovementRequest& r) {
  // Length-prefixed fields: no choice of memo can make two requests collide.
  std::string text;
  for (const std::string& field :
       {r.kind, r.from_user, r.to_user, r.asset, std::to_string(r.amount), r.memo,
        std::string(r.pending ? "pending:" + std::to_string(r.timeout.count()) : "posted")}) {
    text += std::to_string(field.size()) + ":" + field + ";";
  }
  return text;
}

std::string generate_idempotency_key() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "wk-%016llx%016llx",
                static_cast<unsigned long long>(random()), static_cast<unsigned long long>(random()));
  return buffer;
}

Result<int64_t> parse_id(const std::string& text, const std::string& what) {
  int64_t value = 0;
  bool good = !text.empty() && text.size() <= 18;
  for (char c : text) {
    good = good && c >= '0' && c <= '9';
    if (good) value = value * 10 + (c - '0');
  }
  if (!good || value <= 0) return Status::Invalid("invalid " + what + " \"" + text.substr(0, 40) + "\": expected a positive number");
  return value;
}

Result<Asset> Ledger::asset_add(const std::string& code, int scale, const std::string& name,
                                const std::string& actor) {
  Status s = first_error({validate_asset_code(code), validate_memo(name, "name")});
  if (s.ok() && (scale < 0 || scale > kScaleMax)) {
    s = Status::Invalid("invalid scale " + std::to_string(scale) + ": 0 to 18 decimals");
  }
  if (!s.ok()) return s;
  auto result = store_.asset_add(code, scale, name, actor);
  if (!result.ok() && result.status().code() != Code::temporary) {
    store_.audit_failure(actor, "asset.add",
                         nlohmann::json{{"code", code}, {"scale", scale}, {"name", name}}.dump(),
                         result.status());
  }
  return result;
}

Result<Wallet> Ledger::wallet_create(const std::string& user, const std::string& asset,
                                     const std::string& actor) {
  Status s = first_error({validate_user_wallet_owner(user), validate_asset_code(asset)});
  if (!s.ok()) return s;
  auto result = store_.wallet_create(user, asset, actor);
  if (!result.ok() && result.status().code() != Code::temporary) {
    store_.audit_failure(actor, "wallet.create", nlohmann::json{{"user", user}, {"asset", asset}}.dump(),
                         result.status());
  }
  return result;
}

Result<std::vector<Wallet>> Ledger::wallets(const std::optional<std::string>& user,
                                            const std::optional<std::string>& asset) {
  Status s = first_error({user ? validate_user_id(*user) : Status::Ok(),
                          asset ? validate_asset_code(*asset) : Status::Ok()});
  if (!s.ok()) return s;
  return store_.wallets(user, asset);
}

Result<std::vector<Balance>> Ledger::balances(const std::string& user,
                                              const std::optional<std::string>& asset) {
  Status s = first_error({validate_user_id(user), asset ? validate_asset_code(*asset) : Status::Ok()});
  if (!s.ok()) return s;
  return store_.balances(user, asset);
}

Result<MovementRequest> Ledger::prepare(const MovementInput& in) {
  Status s = first_error({validate_user_wallet_owner(in.user),
                          in.operation == Operation::transfer ? validate_user_wallet_owner(in.to_user)
                                                              : Status::Ok(),
                          validate_asset_code(in.asset), validate_memo(in.memo),
                          in.idempotency_key.empty() ? Status::Ok()
                                                     : validate_idempotency_key(in.idempotency_key)});
  if (!s.ok()) return s;
  auto route = route_of(in);
  if (!route.ok()) return route.status();
  if (in.timeout && !in.pending) return Status::Invalid("--timeout needs --pending");
  if (in.timeout && in.timeout->count() < 1000) return Status::Invalid("hold timeout must be at least 1s");
  auto scale = store_.asset_scale(in.asset);
  if (!scale.ok()) return scale.status();
  auto amount = parse_amount(in.amount, *scale);
  if (!amount.ok()) return amount.status();

  MovementRequest r;
  r.kind = route->kind;
  r.from_user = route->from_user;
  r.to_user = route->to_user;
  r.asset = in.asset;
  r.amount = *amount;
  r.memo = in.memo;
  r.key_generated = in.idempotency_key.empty();
  r.idempotency_key = r.key_generated ? generate_idempotency_key() : in.idempotency_key;
  r.pending = in.pending;
  r.timeout = in.pending ? in.timeout.value_or(config_.holds_timeout) : Milliseconds{0};
  r.actor = in.actor;
  r.fingerprint = fingerprint_of(r);
  r.arguments_json = arguments_of(in, r.idempotency_key);
  return r;
}

Result<Movement> Ledger::move(const MovementInput& input) {
  auto request = prepare(input);
  if (!request.ok()) {
    if (request.status().code() != Code::invalid && request.status().code() != Code::temporary) {
      store_.audit_failure(input.actor, operation_name(input.operation),
                           arguments_of(input, input.idempotency_key), request.status());
    }
    return request.status();
  }
  auto movement = store_.move(*request);
  if (!movement.ok() && movement.status().code() != Code::temporary) {
    store_.audit_failure(input.actor, request->kind, request->arguments_json, movement.status());
  }
  return movement;
}

Result<TransactionDetail> Ledger::transaction(const std::string& id_text) {
  auto id = parse_id(id_text, "transaction id");
  if (!id.ok()) return id.status();
  return store_.transaction(*id);
}

Result<HistoryPage> Ledger::history(HistoryQuery q, const std::string& cursor_text) {
  Status s = first_error({validate_user_id(q.user), q.asset ? validate_asset_code(*q.asset) : Status::Ok()});
  if (!s.ok()) return s;
  if (q.limit < 1 || q.limit > kHistoryLimitMax) {
    return Status::Invalid("invalid limit " + std::to_string(q.limit) + ": 1 to " +
                           std::to_string(kHistoryLimitMax));
  }
  static const std::set<std::string> kKinds = {"deposit", "topup", "bonus", "withdraw",
                                              "purchase", "transfer", "reversal"};
  static const std::set<std::string> kStatuses = {"pending", "posted", "voided", "failed"};
  if (q.kind && kKinds.count(*q.kind) == 0) return Status::Invalid("invalid kind \"" + *q.kind + "\"");
  if (q.status && kStatuses.count(*q.status) == 0) {
    return Status::Invalid("invalid status \"" + *q.status + "\": pending, posted, voided or failed");
  }
  if (!cursor_text.empty()) {
    auto cursor = parse_id(cursor_text, "cursor");
    if (!cursor.ok()) return cursor.status();
    q.cursor = *cursor;
  }
  return store_.history(q);
}

Result<std::vector<AuditRow>> Ledger::audit(const AuditQuery& q) {
  if (q.limit < 1 || q.limit > 10000) return Status::Invalid("invalid limit: 1 to 10000");
  if (q.actor) {
    Status s = validate_memo(*q.actor, "actor");
    if (!s.ok()) return s;
  }
  return store_.audit(q);
}

}  // namespace wallet
