// Each input bound of core/domain/validate.hpp against its twin in the
// database: through the Store, which does not validate, a value at the C++
// bound is stored and one past it is refused by the database itself. So the
// two definitions of each limit cannot drift apart unnoticed.
#include <string>

#include "core/domain/validate.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

bool refused_by_database(const Status& status) { return status.code() == Code::invalid; }

template <typename T>
Status status_of(const Result<T>& result) {
  return result.ok() ? Status::Ok() : result.status();
}

// A deposit of 1 to `user`, straight to the Store.
MovementRequest deposit_request(const std::string& user, const std::string& asset) {
  MovementRequest r;
  r.kind = "deposit";
  r.from_user = "@treasury";
  r.to_user = user;
  r.asset = asset;
  r.amount = 1;
  r.idempotency_key = test::fresh_key();
  r.actor = "tester";
  r.arguments_json = "{}";
  r.fingerprint = fingerprint_of(r);
  return r;
}

}  // namespace

TEST_CASE("asset codes and names: the database holds the same bounds as the core") {
  test::Fixture f;
  std::string code = test::fresh_asset_code();  // 9 characters
  code += std::string(kAssetCodeMax - code.size(), 'X');
  CHECK(status_of(f.store.asset_add(code, 0, std::string(kAssetNameMax, 'n'), "tester")).ok());
  CHECK(refused_by_database(status_of(f.store.asset_add(code + "X", 0, "", "tester"))));
  CHECK(refused_by_database(
      status_of(f.store.asset_add(test::fresh_asset_code(), 0, std::string(kAssetNameMax + 1, 'n'), "tester"))));
}

TEST_CASE("user ids: the database holds the same bound as the core") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  CHECK(status_of(f.store.wallet_create(std::string(kUserIdMax, 'u'), asset, "tester")).ok());
  CHECK(refused_by_database(status_of(f.store.wallet_create(std::string(kUserIdMax + 1, 'u'), asset, "tester"))));
}

TEST_CASE("idempotency keys, memos and actors: the database holds the same bounds as the core") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  MovementRequest r = deposit_request("alice", asset);
  const std::string unique = test::fresh_key();
  r.idempotency_key = std::string(kIdempotencyKeyMax - unique.size(), 'k') + unique;
  REQUIRE(r.idempotency_key.size() == kIdempotencyKeyMax);
  CHECK(status_of(f.store.move(r)).ok());
  r.idempotency_key += "k";
  CHECK(refused_by_database(status_of(f.store.move(r))));

  r = deposit_request("alice", asset);
  r.memo = std::string(kMemoMax, 'm');
  r.fingerprint = fingerprint_of(r);
  CHECK(status_of(f.store.move(r)).ok());
  r = deposit_request("alice", asset);
  r.memo = std::string(kMemoMax + 1, 'm');
  r.fingerprint = fingerprint_of(r);
  CHECK(refused_by_database(status_of(f.store.move(r))));

  r = deposit_request("alice", asset);
  r.actor = std::string(kActorMax, 'a');
  CHECK(status_of(f.store.move(r)).ok());
  r = deposit_request("alice", asset);
  r.actor = std::string(kActorMax + 1, 'a');
  CHECK(refused_by_database(status_of(f.store.move(r))));
  CHECK(f.balance_minor("alice", asset) == 3);  // the three at the bound, nothing else
}
