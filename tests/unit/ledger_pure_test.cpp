#include <doctest/doctest.h>

#include <set>

#include "core/ledger/ledger.hpp"
#include "core/domain/status.hpp"

using namespace wallet;

TEST_CASE("route_of picks the system account of each kind") {
  MovementInput in;
  in.user = "alice";
  in.operation = Operation::deposit;
  CHECK(route_of(in)->from_user == "@treasury");
  in.kind = "bonus";
  CHECK(route_of(in)->kind == "bonus");
  in.kind = "purchase";
  CHECK(route_of(in).status().code() == Code::invalid);

  in.operation = Operation::withdraw;
  in.kind = "";
  CHECK(route_of(in)->to_user == "@settlement");
  in.kind = "purchase";
  CHECK(route_of(in)->to_user == "@revenue");
  in.kind = "bonus";
  CHECK_FALSE(route_of(in).ok());

  in.operation = Operation::transfer;
  in.kind = "";
  in.to_user = "bob";
  CHECK(route_of(in)->to_user == "bob");
  in.to_user = "alice";
  CHECK_FALSE(route_of(in).ok());
}

TEST_CASE("fingerprints differ whenever the request differs") {
  MovementRequest base;
  base.kind = "transfer";
  base.from_user = "alice";
  base.to_user = "bob";
  base.asset = "GC";
  base.amount = 10;
  std::set<std::string> seen = {fingerprint_of(base)};
  auto variant = [&](auto change) {
    MovementRequest r = base;
    change(r);
    CHECK(seen.insert(fingerprint_of(r)).second);
  };
  variant([](MovementRequest& r) { r.amount = 11; });
  variant([](MovementRequest& r) { r.to_user = "carol"; });
  variant([](MovementRequest& r) { r.asset = "DI"; });
  variant([](MovementRequest& r) { r.memo = "x"; });
  variant([](MovementRequest& r) { r.kind = "purchase"; });
  variant([](MovementRequest& r) { r.pending = true; });
  // Field boundaries are unambiguous.
  variant([](MovementRequest& r) { r.from_user = "alic"; r.to_user = "ebob"; });
  // What does not change the request does not change the fingerprint.
  MovementRequest same = base;
  same.idempotency_key = "other";
  same.actor = "someone";
  CHECK(fingerprint_of(same) == fingerprint_of(base));
}

TEST_CASE("generated keys are valid and distinct") {
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.insert(generate_idempotency_key());
  CHECK(keys.size() == 1000);
  CHECK(keys.begin()->size() == 35);
}

TEST_CASE("parse_id accepts positive numbers only") {
  CHECK(*parse_id("42", "id") == 42);
  for (auto bad : {"", "0", "-1", "1.5", "abc", "99999999999999999999", " 1"}) {
    CHECK_FALSE(parse_id(bad, "id").ok());
  }
}
