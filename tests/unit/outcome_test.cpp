// The typed outcome of a money movement and the one table that gives it its
// exit code and HTTP status; the kinds table and the routing it drives.
#include <doctest/doctest.h>

#include "core/domain/kinds.hpp"
#include "core/ledger/ledger.hpp"
#include "core/ledger/outcome.hpp"

using namespace wallet;

namespace {

Movement movement(const std::string& status, bool replayed = false) {
  Movement m;
  m.transaction_id = 7;
  m.idempotency_key = "k1";
  m.status = status;
  m.replayed = replayed;
  if (status == "failed") {
    m.error_code = "insufficient_funds";
    m.error_message = "insufficient funds: wallet alice/GC has 5 available, 10 requested";
  }
  if (status == "voided") m.error_message = "settlement rejected (exit 1)";
  return m;
}

}  // namespace

TEST_CASE("each outcome has one exit code and one HTTP status") {
  const auto applied = MovementOutcome::created(movement("posted"));
  CHECK(applied.outcome() == Outcome::applied);
  CHECK(applied.ok());
  CHECK(applied.exit_code() == 0);
  CHECK(applied.http_status() == 201);
  CHECK(applied.error_fields().is_null());

  const auto replayed = MovementOutcome::created(movement("posted", true));
  CHECK(replayed.replayed());
  CHECK(replayed.http_status() == 200);  // nothing created this time

  const auto held = MovementOutcome::created(movement("pending"));
  CHECK(held.outcome() == Outcome::held);
  CHECK(held.http_status() == 201);

  const auto poor = MovementOutcome::created(movement("failed"));
  CHECK(poor.outcome() == Outcome::insufficient_funds);
  CHECK_FALSE(poor.ok());
  CHECK(poor.recorded());
  CHECK(poor.exit_code() == 3);
  CHECK(poor.http_status() == 422);
  CHECK(poor.status().message() == "insufficient funds: wallet alice/GC has 5 available, 10 requested");
  CHECK(poor.error_fields() == nlohmann::json{{"transaction_id", 7}, {"idempotency_key", "k1"},
                                              {"status", "failed"}, {"replayed", false}});

  const auto rejected = MovementOutcome::created(movement("voided"));
  CHECK(rejected.outcome() == Outcome::rejected);
  CHECK(rejected.exit_code() == 5);
  CHECK(rejected.http_status() == 409);
  CHECK(rejected.status().message() == "withdrawal 7 was rejected: settlement rejected (exit 1)");

  const auto completed = MovementOutcome::completed(movement("posted"));
  CHECK(completed.http_status() == 200);
  const auto released = MovementOutcome::released(movement("voided"));
  CHECK(released.ok());
  CHECK(released.outcome() == Outcome::released);
  CHECK(released.http_status() == 200);

  const MovementOutcome missing = Status::NotFound("transaction 9 not found");
  CHECK(missing.outcome() == Outcome::refused);
  CHECK_FALSE(missing.recorded());
  CHECK(missing.exit_code() == 4);
  CHECK(missing.http_status() == 404);
  CHECK(missing.error_fields().is_null());
  const MovementOutcome down = Status::Temporary("database unavailable");
  CHECK(down.exit_code() == 75);
  CHECK(down.http_status() == 503);
}

TEST_CASE("core messages name fields neutrally; each front end names them its way") {
  const std::string message = field_ref("timeout") + " needs " + field_ref("pending");
  CHECK(message.find("--") == std::string::npos);
  CHECK(name_fields(message, [](std::string_view f) { return "--" + std::string(f); }) == "--timeout needs --pending");
  CHECK(name_fields(message, [](std::string_view f) { return "\"" + std::string(f) + "\""; }) ==
        "\"timeout\" needs \"pending\"");
  CHECK(name_fields("no fields here", [](std::string_view) { return std::string("x"); }) == "no fields here");
}

TEST_CASE("routing follows the kinds table: each kind of an operation, its accounts, nothing else") {
  for (const KindInfo& kind : kinds()) {
    CAPTURE(kind.name);
    CHECK(parse_kind(kind.name) == kind.kind);
    CHECK(kind_name(kind.kind) == kind.name);
    for (Operation operation : {Operation::deposit, Operation::withdraw, Operation::transfer}) {
      MovementInput in;
      in.operation = operation;
      in.user = "alice";
      in.to_user = "bob";
      in.kind = std::string(kind.name);
      auto route = route_of(in);
      CHECK(route.ok() == (kind.operation == operation));
      if (!route.ok()) continue;
      CHECK(route->from_user == (kind.debit == Account::user ? "alice" : std::string(system_user(kind.debit))));
      CHECK(route->to_user == (kind.credit == Account::user        ? "alice"
                               : kind.credit == Account::recipient ? "bob"
                                                                   : std::string(system_user(kind.credit))));
      CHECK(route->settles == kind.settles);
    }
  }
  MovementInput fee;
  fee.operation = Operation::withdraw;
  fee.user = "alice";
  fee.kind = "fee";
  CHECK(route_of(fee).status().message() == "invalid kind \"fee\" for withdraw: withdraw or purchase");
  for (const StatusInfo& status : statuses()) CHECK(parse_status(status.name) == status.status);
  CHECK_FALSE(parse_status("settled"));
  CHECK(or_list(kind_names(Operation::deposit)) == "deposit, topup or bonus");
}
