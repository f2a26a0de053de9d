#include <doctest/doctest.h>

#include "core/domain/sha256.hpp"
#include "daemon/guard.hpp"

using namespace wallet;
using namespace wallet::daemon;

TEST_CASE("sha256_hex matches the published test vector") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("Authenticator: named tokens by hash, plain tokens named by position with every scope") {
  Authenticator auth({{"reader", sha256_hex("secret-r"), {"read"}}, {"mover", sha256_hex("secret-m"), {"move", "read"}}},
                     {"plain-one", "plain-two"});
  const Principal* r = auth.authenticate(std::string("Bearer secret-r"));
  REQUIRE(r != nullptr);
  CHECK(r->name == "reader");
  CHECK(r->has(kScopeRead));
  CHECK_FALSE(r->has(kScopeMove));
  CHECK_FALSE(r->has(kScopeOperate));
  const Principal* m = auth.authenticate(std::string("Bearer secret-m"));
  REQUIRE(m != nullptr);
  CHECK(m->scopes == (kScopeMove | kScopeRead));
  const Principal* p = auth.authenticate(std::string("Bearer plain-two"));
  REQUIRE(p != nullptr);
  CHECK(p->name == "token2");
  CHECK(p->scopes == kScopesAll);
  // The hash itself is not a token, nor is a near miss or another scheme.
  CHECK(auth.authenticate("Bearer " + sha256_hex("secret-r")) == nullptr);
  CHECK(auth.authenticate(std::string("Bearer secret-")) == nullptr);
  CHECK(auth.authenticate(std::string("Basic secret-r")) == nullptr);
  CHECK(auth.authenticate(std::string("Bearer ")) == nullptr);
  CHECK(auth.authenticate(std::nullopt) == nullptr);
  CHECK(auth.find("mover") == m);
  CHECK(auth.find("nobody") == nullptr);
}

TEST_CASE("RateLimiter: charge empties an address's bucket; exhausted takes nothing") {
  RateLimiter failures(5.0 / 60.0, 5);
  int retry_after = 0;
  for (int i = 0; i < 5; ++i) {
    CHECK_FALSE(failures.exhausted("10.0.0.1", retry_after));
    failures.charge("10.0.0.1");
  }
  CHECK(failures.exhausted("10.0.0.1", retry_after));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 12);
  CHECK_FALSE(failures.exhausted("10.0.0.2", retry_after));  // another address has its own bucket
}

TEST_CASE("RateLimiter: past keys_max, full buckets are forgotten and the map stays bounded") {
  RateLimiter limiter(1.0, 2, 4);
  int retry_after = 0;
  for (int i = 0; i < 100; ++i) CHECK(limiter.allow("k" + std::to_string(i), retry_after));
  // A key with an empty bucket is still refused after many other keys.
  RateLimiter busy(0.001, 1, 4);
  CHECK(busy.allow("hot", retry_after));
  for (int i = 0; i < 10; ++i) busy.allow("k" + std::to_string(i), retry_after);
  CHECK_FALSE(busy.allow("hot", retry_after));
}
