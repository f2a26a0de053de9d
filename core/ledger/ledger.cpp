#include "core/ledger/ledger.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>

#include <spdlog/spdlog.h>

#include "core/domain/amount.hpp"
#include "core/domain/kinds.hpp"
#include "core/domain/shapes.hpp"
#include "core/domain/timestamp.hpp"
#include "core/domain/validate.hpp"

namespace wallet {

namespace {

std::string arguments_of(const MovementInput& in, const std::string& key) {
  nlohmann::json args = {{"user", in.user}, {"asset", in.asset}, {"amount", in.amount},
                         {"key", key}};
  if (!in.to_user.empty()) args["to"] = in.to_user;
  if (!in.kind.empty()) args["kind"] = in.kind;
  if (!in.memo.empty()) args["memo"] = in.memo;
  if (!in.reference.empty()) args["reference"] = in.reference;
  if (in.pending) args["pending"] = true;
  if (in.timeout) args["timeout"] = format_duration(*in.timeout);
  return args.dump();
}

}  // namespace

Result<Route> route_of(const MovementInput& in) {
  const std::string operation(operation_name(in.operation));
  const std::string kind = in.kind.empty() ? std::string(kind_names(in.operation).front()) : in.kind;
  const auto parsed = parse_kind(kind);
  if (!parsed || kind_info(*parsed).operation != in.operation) {
    return Status::Invalid("invalid kind \"" + excerpt(kind, 40) + "\" for " + operation + ": " +
                           or_list(kind_names(in.operation)));
  }
  if (in.operation == Operation::transfer && in.user == in.to_user) {
    return Status::Invalid("cannot transfer from " + in.user + " to itself");
  }
  const auto user_of = [&in](Account account) {
    if (account == Account::user) return in.user;
    if (account == Account::recipient) return in.to_user;
    return std::string(system_user(account));
  };
  const KindInfo& info = kind_info(*parsed);
  return Route{kind, user_of(info.debit), user_of(info.credit), info.settles};
}

std::string fingerprint_of(const MovementRequest& r) {
  // Length-prefixed fields: no choice of memo can make two requests collide.
  std::string text;
  for (const std::string& field :
       {r.kind, r.from_user, r.to_user, r.asset, std::to_string(r.amount), r.memo,
        std::string(r.pending ? "pending:" + std::to_string(r.timeout.count()) : "posted")}) {
    text += std::to_string(field.size()) + ":" + field + ";";
  }
  // Only when given, so that a request without one keeps the fingerprint
  // it had before references existed (replays of older keys still match).
  if (!r.reference.empty()) text += "reference:" + std::to_string(r.reference.size()) + ":" + r.reference + ";";
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
  if (!good || value <= 0) return Status::Invalid("invalid " + what + " \"" + excerpt(text, 40) + "\": expected a positive number");
  return value;
}

Ledger::Ledger(Store& store, const Config& config) : store_(store), config_(config) {
  if (!config_.settlement_command.empty()) {
    settlement_ = [this](const TransactionDetail& detail) { return settle_with_command(detail); };
  }
}

SettlementOutcome Ledger::settle_with_command(const TransactionDetail& detail) const {
  nlohmann::json input = to_json(detail.movement);
  input.erase("key_generated");
  input["user"] = detail.movement.from_user;
  input["attempts"] = detail.attempts;
  auto run = run_command(config_.settlement_command, input.dump(), config_.settlement_timeout,
                         settlement_environment(config_.settlement_env, [](const char* name) { return std::getenv(name); }));
  if (!run.ok()) return {SettlementDecision::retry, run.status().message(), ""};
  SettlementOutcome outcome = classify(*run);
  spdlog::info("settlement of transaction {}: {} ({})", detail.movement.transaction_id,
               outcome.decision == SettlementDecision::confirmed  ? "confirmed"
               : outcome.decision == SettlementDecision::rejected ? "rejected"
                                                                  : "retry later",
               outcome.reason.empty() ? "no output" : outcome.reason);
  return outcome;
}

Result<Asset> Ledger::asset_add(const std::string& code, int scale, const std::string& name,
                                const std::string& actor) {
  Status s = first_error({validate_asset_code(code), validate_text(name, "name", kAssetNameMax)});
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
                          in.reference.empty() ? Status::Ok() : validate_reference(in.reference),
                          in.idempotency_key.empty() ? Status::Ok()
                                                     : validate_idempotency_key(in.idempotency_key)});
  if (!s.ok()) return s;
  auto route = route_of(in);
  if (!route.ok()) return route.status();
  if (in.timeout && !in.pending) return Status::Invalid(field_ref("timeout") + " needs " + field_ref("pending"));
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
  r.reference = in.reference;
  r.key_generated = in.idempotency_key.empty();
  r.idempotency_key = r.key_generated ? generate_idempotency_key() : in.idempotency_key;
  r.pending = in.pending;
  r.timeout = in.pending ? in.timeout.value_or(config_.holds_timeout) : Milliseconds{0};
  r.actor = in.actor;
  r.fingerprint = fingerprint_of(r);
  r.arguments_json = arguments_of(in, r.idempotency_key);
  if (route->settles && settlement_) {
    // Money leaving the system waits for the settlement command's answer.
    // (After the fingerprint: configuring a command does not change what
    // the request is.)
    r.pending = true;
    r.settle = true;
    constexpr Milliseconds kLeaseMargin{30'000};
    r.settle_lease = config_.settlement_timeout + kLeaseMargin;
  }
  return r;
}

MovementOutcome Ledger::move(const MovementInput& input) {
  auto movement = record(input);
  if (!movement.ok()) return movement.status();
  return MovementOutcome::created(std::move(*movement));
}

Result<Movement> Ledger::record(const MovementInput& input) {
  auto request = prepare(input);
  if (!request.ok()) {
    if (request.status().code() != Code::invalid && request.status().code() != Code::temporary) {
      store_.audit_failure(input.actor, std::string(operation_name(input.operation)),
                           arguments_of(input, input.idempotency_key), request.status());
    }
    return request.status();
  }
  auto movement = store_.move(*request);
  if (!movement.ok() && movement.status().code() == Code::temporary) {
    return Status::Temporary(movement.status().message() + " with the same key (" + field_ref("key") + " " +
                             request->idempotency_key + ")");
  }
  if (!movement.ok()) store_.audit_failure(input.actor, request->kind, request->arguments_json, movement.status());
  if (!movement.ok() || !request->settle || movement->status != "pending" || movement->replayed ||
      !input.settle_now) {
    return movement;
  }
  // The first settlement attempt, right away. If it does not decide, the
  // withdrawal stays pending and retry (or walletd's worker) goes on.
  auto driven = store_.drive_pending(movement->transaction_id, &settlement_, input.actor);
  if (!driven.ok()) {
    spdlog::warn("withdrawal {} is pending; its first settlement attempt failed: {}", movement->transaction_id,
                 driven.status().message());
    return movement;
  }
  auto after = store_.transaction(movement->transaction_id);
  if (!after.ok()) return movement;
  Movement final_movement = after->movement;
  final_movement.key_generated = movement->key_generated;
  if (final_movement.status == "voided") final_movement.error_message = after->last_error.value_or("");
  return final_movement;
}

Result<TransactionDetail> Ledger::transaction(const std::string& id_text) {
  auto id = parse_id(id_text, "transaction id");
  if (!id.ok()) return id.status();
  return store_.transaction(*id);
}

Result<HistoryPage> Ledger::history(HistoryQuery q, const std::string& cursor_text) {
  Status s = first_error({validate_user_id(q.user), q.asset ? validate_asset_code(*q.asset) : Status::Ok(),
                          q.reference ? validate_reference(*q.reference) : Status::Ok()});
  if (!s.ok()) return s;
  if (q.limit < 1 || q.limit > kHistoryLimitMax) {
    return Status::Invalid("invalid limit " + std::to_string(q.limit) + ": 1 to " +
                           std::to_string(kHistoryLimitMax));
  }
  if (q.kind && !parse_kind(*q.kind)) return Status::Invalid("invalid kind \"" + excerpt(*q.kind, 40) + "\"");
  if (q.status && !parse_status(*q.status)) {
    return Status::Invalid("invalid status \"" + excerpt(*q.status, 40) + "\": " + or_list(status_names()));
  }
  for (auto [value, field] : {std::pair{&q.since, "since"}, std::pair{&q.until, "until"}}) {
    if (!*value) continue;
    auto parsed = parse_timestamp(**value, field);
    if (!parsed.ok()) return parsed.status();
    *value = *parsed;
  }
  if (!cursor_text.empty()) {
    auto cursor = parse_id(cursor_text, "cursor");
    if (!cursor.ok()) return cursor.status();
    q.cursor = *cursor;
  }
  return store_.history(q);
}

MovementOutcome Ledger::post(const std::string& id_text, const std::string& amount_text,
                             const std::string& actor) {
  auto id = parse_id(id_text, "transaction id");
  if (!id.ok()) return id.status();
  std::optional<int64_t> amount;
  nlohmann::json args = {{"transaction", *id}};
  if (!amount_text.empty()) {
    auto detail = store_.transaction(*id);
    if (!detail.ok()) return detail.status();
    auto parsed = parse_amount(amount_text, detail->movement.scale);
    if (!parsed.ok()) return parsed.status();
    amount = *parsed;
    args["amount"] = amount_text;
  }
  auto result = store_.post(*id, amount, actor, args.dump());
  if (!result.ok() && result.status().code() != Code::temporary) {
    store_.audit_failure(actor, "post", args.dump(), result.status());
  }
  if (!result.ok()) return result.status();
  return MovementOutcome::completed(std::move(*result));
}

MovementOutcome Ledger::void_transaction(const std::string& id_text, const std::string& reason,
                                         const std::string& actor) {
  auto id = parse_id(id_text, "transaction id");
  if (!id.ok()) return id.status();
  Status s = validate_reason(reason);
  if (!s.ok()) return s;
  nlohmann::json args = {{"transaction", *id}};
  if (!reason.empty()) args["reason"] = reason;
  auto result = store_.void_transaction(*id, reason.empty() ? "voided by " + actor : reason, actor, args.dump());
  if (!result.ok() && result.status().code() != Code::temporary) {
    store_.audit_failure(actor, "void", args.dump(), result.status());
  }
  if (!result.ok()) return result.status();
  return MovementOutcome::released(std::move(*result));
}

MovementOutcome Ledger::reverse(const std::string& id_text, const std::string& key, const std::string& actor) {
  auto id = parse_id(id_text, "transaction id");
  if (!id.ok()) return id.status();
  if (!key.empty()) {
    Status s = validate_idempotency_key(key);
    if (!s.ok()) return s;
  }
  const bool generated = key.empty();
  const std::string idempotency_key = generated ? generate_idempotency_key() : key;
  nlohmann::json args = {{"transaction", *id}, {"key", idempotency_key}};
  auto result = store_.reverse(*id, idempotency_key, actor, args.dump());
  if (!result.ok() && result.status().code() != Code::temporary) {
    store_.audit_failure(actor, "reverse", args.dump(), result.status());
  }
  if (!result.ok()) return result.status();
  result->key_generated = generated;
  return MovementOutcome::created(std::move(*result));
}

Result<std::vector<AuditRow>> Ledger::audit(AuditQuery q) {
  if (q.limit < 1 || q.limit > kAuditLimitMax) {
    return Status::Invalid("invalid limit " + std::to_string(q.limit) + ": 1 to " + std::to_string(kAuditLimitMax));
  }
  if (q.since) {
    auto parsed = parse_timestamp(*q.since, "since");
    if (!parsed.ok()) return parsed.status();
    q.since = *parsed;
  }
  if (q.actor) {
    Status s = validate_actor(*q.actor);
    if (!s.ok()) return s;
  }
  return store_.audit(q);
}

}  // namespace wallet
