#include "daemon/body.hpp"

#include <initializer_list>
#include <nlohmann/json.hpp>

#include "core/domain/validate.hpp"

namespace wallet::daemon {

namespace {

using nlohmann::json;

// Reads a JSON object body and checks its fields: each key must be one of
// `allowed`; strings must be strings, and so on.
class Body {
 public:
  static Result<Body> parse(const std::string& text, std::initializer_list<const char*> allowed) {
    json value = json::parse(text.empty() ? "{}" : text, nullptr, false);
    if (value.is_discarded()) return Status::Invalid("malformed JSON body");
    if (!value.is_object()) return Status::Invalid("the body must be a JSON object");
    for (const auto& [key, unused] : value.items()) {
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) return Status::Invalid("unknown field \"" + excerpt(key, 40) + "\"");
    }
    return Body(std::move(value));
  }

  // A string field; "" when absent and not required.
  Status text(const char* key, std::string& out, bool required) const {
    if (!value_.contains(key) || value_[key].is_null()) {
      return required ? Status::Invalid(std::string("missing field \"") + key + "\"") : Status::Ok();
    }
    if (!value_[key].is_string()) {
      return Status::Invalid(std::string("field \"") + key + "\" must be a string" +
                             (std::string(key) == "amount" ? " like \"10.50\"" : ""));
    }
    out = value_[key].get<std::string>();
    return Status::Ok();
  }

  Status flag(const char* key, bool& out) const {
    if (!value_.contains(key) || value_[key].is_null()) return Status::Ok();
    if (!value_[key].is_boolean()) return Status::Invalid(std::string("field \"") + key + "\" must be true or false");
    out = value_[key].get<bool>();
    return Status::Ok();
  }

 private:
  explicit Body(json value) : value_(std::move(value)) {}
  json value_;
};

}  // namespace

Result<MovementInput> movement_input(Operation op, const std::string& text) {
  auto body = op == Operation::transfer
                  ? Body::parse(text, {"from", "to", "asset", "amount", "memo", "reference", "pending", "timeout"})
                  : Body::parse(text, {"user", "asset", "amount", "kind", "memo", "reference", "pending", "timeout"});
  if (!body.ok()) return body.status();
  MovementInput in;
  in.operation = op;
  std::string timeout;
  Status s = first_error({op == Operation::transfer ? body->text("from", in.user, true) : body->text("user", in.user, true),
                          op == Operation::transfer ? body->text("to", in.to_user, true) : body->text("kind", in.kind, false),
                          body->text("asset", in.asset, true), body->text("amount", in.amount, true),
                          body->text("memo", in.memo, false), body->text("reference", in.reference, false),
                          body->flag("pending", in.pending),
                          body->text("timeout", timeout, false)});
  if (!s.ok()) return s;
  if (!timeout.empty()) {
    auto parsed = parse_duration(timeout);
    if (!parsed.ok()) return parsed.status();
    in.timeout = *parsed;
  }
  return in;
}

Result<TransactionActionInput> transaction_action_input(const std::string& action, const std::string& text) {
  auto body = action == "post"   ? Body::parse(text, {"amount"})
              : action == "void" ? Body::parse(text, {"reason"})
                                 : Body::parse(text, {});
  if (!body.ok()) return body.status();
  TransactionActionInput in;
  Status s = first_error({body->text("amount", in.amount, false), body->text("reason", in.reason, false)});
  if (!s.ok()) return s;
  return in;
}

Result<WalletInput> wallet_input(const std::string& text) {
  auto body = Body::parse(text, {"user", "asset"});
  if (!body.ok()) return body.status();
  WalletInput in;
  Status s = first_error({body->text("user", in.user, true), body->text("asset", in.asset, true)});
  if (!s.ok()) return s;
  return in;
}

}  // namespace wallet::daemon
