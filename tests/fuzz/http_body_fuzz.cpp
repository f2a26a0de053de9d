// libFuzzer target: walletd's request bodies (daemon/body: movement_input,
// transaction_action_input, wallet_input), exactly what the POST routes of
// daemon/api.cpp run before they touch the database.
//
// Input: byte 0 picks the route (deposit, withdrawal, transfer, post, void,
// reverse, wallets), the rest is the body. Invariants, beyond "no crash":
//  - nothing throws;
//  - an accepted body is empty or a JSON object with only the route's
//    members; every field of the input is its member's string (or absent
//    and optional), `pending` its boolean, `timeout` the parsed duration;
//  - every refusal is Invalid (HTTP 400) with one clean line of message
//    that the JSON error document can carry.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "core/domain/duration.hpp"
#include "daemon/body.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace wallet;
using wallet::fuzz::check;
using nlohmann::json;

enum class Route { deposit, withdrawal, transfer, post, void_, reverse, wallets, count };

const std::set<std::string>& members_of(Route route) {
  static const std::set<std::string> kMovement = {"user", "asset", "amount", "kind", "memo", "pending", "timeout"};
  static const std::set<std::string> kTransfer = {"from", "to", "asset", "amount", "memo", "pending", "timeout"};
  static const std::set<std::string> kPost = {"amount"};
  static const std::set<std::string> kVoid = {"reason"};
  static const std::set<std::string> kNone = {};
  static const std::set<std::string> kWallets = {"user", "asset"};
  switch (route) {
    case Route::deposit:
    case Route::withdrawal: return kMovement;
    case Route::transfer: return kTransfer;
    case Route::post: return kPost;
    case Route::void_: return kVoid;
    case Route::reverse: return kNone;
    default: return kWallets;
  }
}

// The accepted body as JSON; checks it is an object of the route's members.
json accepted_object(Route route, const std::string& body) {
  json object = body.empty() ? json::object() : json::parse(body, nullptr, false);
  check(!object.is_discarded() && object.is_object(), "an accepted body is a JSON object", body);
  for (const auto& [name, unused] : object.items()) {
    check(members_of(route).count(name) == 1, "an accepted body has only the route's members", name);
  }
  return object;
}

// `value` is what the body said for `name`: its string, or "" when absent
// or null (and then only if optional).
void check_text(const json& object, const char* name, const std::string& value, bool required) {
  if (!object.contains(name) || object[name].is_null()) {
    check(!required, "a required field is present", name);
    check(value.empty(), "an absent field is empty", name);
    return;
  }
  check(object[name].is_string(), "an accepted field is a string", name);
  check(object[name].get<std::string>() == value, "the field holds the member's text", name);
}

void check_movement(Route route, const std::string& body, const MovementInput& in) {
  const json object = accepted_object(route, body);
  const bool transfer = route == Route::transfer;
  check(in.operation == (route == Route::deposit    ? Operation::deposit
                         : route == Route::transfer ? Operation::transfer
                                                    : Operation::withdraw),
        "the operation is the route's");
  check_text(object, transfer ? "from" : "user", in.user, true);
  if (transfer) {
    check_text(object, "to", in.to_user, true);
    check(in.kind.empty(), "a transfer has no kind");
  } else {
    check_text(object, "kind", in.kind, false);
    check(in.to_user.empty(), "only a transfer has a recipient");
  }
  check_text(object, "asset", in.asset, true);
  check_text(object, "amount", in.amount, true);
  check_text(object, "memo", in.memo, false);
  bool pending = false;
  if (object.contains("pending") && !object["pending"].is_null()) {
    check(object["pending"].is_boolean(), "an accepted pending is a boolean");
    pending = object["pending"].get<bool>();
  }
  check(in.pending == pending, "pending is the member's boolean");
  std::string timeout;
  if (object.contains("timeout") && !object["timeout"].is_null()) {
    check(object["timeout"].is_string(), "an accepted timeout is a string");
    timeout = object["timeout"].get<std::string>();
  }
  check(in.timeout.has_value() == !timeout.empty(), "a timeout is set exactly when given");
  if (in.timeout) {
    check(*in.timeout >= Milliseconds{0} && *in.timeout <= kDurationMax, "a timeout is within bounds");
    auto again = parse_duration(format_duration(*in.timeout));
    check(again.ok() && *again == *in.timeout, "a timeout formats and parses back to itself", timeout);
  }
  check(in.idempotency_key.empty() && in.actor.empty(), "key and actor come from headers, not the body");
}

template <typename T>
void check_refusal(const Result<T>& result) {
  check(result.status().code() == Code::invalid, "a refused body is invalid input (400)");
  wallet::fuzz::check_error_message(result.status());
}

void run(Route route, const std::string& body) {
  switch (route) {
    case Route::deposit:
    case Route::withdrawal:
    case Route::transfer: {
      const Operation op = route == Route::deposit    ? Operation::deposit
                           : route == Route::transfer ? Operation::transfer
                                                      : Operation::withdraw;
      auto in = daemon::movement_input(op, body);
      if (in.ok()) check_movement(route, body, *in);
      else check_refusal(in);
      return;
    }
    case Route::post:
    case Route::void_:
    case Route::reverse: {
      const char* action = route == Route::post ? "post" : route == Route::void_ ? "void" : "reverse";
      auto in = daemon::transaction_action_input(action, body);
      if (!in.ok()) return check_refusal(in);
      const json object = accepted_object(route, body);
      check_text(object, "amount", in->amount, false);
      check_text(object, "reason", in->reason, false);
      return;
    }
    default: {
      auto in = daemon::wallet_input(body);
      if (!in.ok()) return check_refusal(in);
      const json object = accepted_object(route, body);
      check_text(object, "user", in->user, true);
      check_text(object, "asset", in->asset, true);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto route = static_cast<Route>(data[0] % static_cast<int>(Route::count));
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    run(route, body);
  } catch (const std::exception& e) {
    wallet::fuzz::fail("body handling throws nothing", e.what());
  }
  return 0;
}
