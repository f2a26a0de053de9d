// Bearer-token authentication with named, scoped tokens stored as SHA-256
// hashes, and token-bucket rate limiting (per token, and per client
// address for failed authentications).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.hpp"

namespace wallet::daemon {

// Compares in time that depends only on the lengths, not on where the
// strings differ (so response times leak nothing about a token).
bool constant_time_equal(const std::string& a, const std::string& b);

// Scopes as bits: read (GET routes), move (wallets, movements, post/void
// of the token's own holds), operate (everything an operator does).
enum Scope : unsigned { kScopeRead = 1, kScopeMove = 2, kScopeOperate = 4 };
inline constexpr unsigned kScopesAll = kScopeRead | kScopeMove | kScopeOperate;
// The bits of scope names (each one of kTokenScopes).
unsigned scope_bits(const std::vector<std::string>& names);

// Who presented a valid token: its name (the audit actor is
// "walletd:<name>") and its scopes.
struct Principal {
  std::string name;
  unsigned scopes = 0;
  bool has(Scope scope) const { return (scopes & scope) != 0; }
};

class Authenticator {
 public:
  // `named`: [[daemon.tokens]]; `plain`: the deprecated plain list, named
  // token1, token2... by position (as audit rows named them before), with
  // every scope. Plain tokens are hashed here and not kept.
  Authenticator(const std::vector<DaemonToken>& named, const std::vector<std::string>& plain);
  // The token in an "Authorization: Bearer <token>" header, or nullptr.
  // The SHA-256 of what was presented is compared in constant time with
  // every configured hash, whichever matches.
  const Principal* authenticate(const std::optional<std::string>& authorization) const;
  // The token called `name`, or nullptr.
  const Principal* find(const std::string& name) const;

 private:
  struct Entry {
    std::string sha256;
    Principal principal;
  };
  std::vector<Entry> tokens_;
};

// A token bucket per key: `per_second` tokens a second, up to `burst`.
// Thread-safe. At most `keys_max` keys are tracked: past that, full buckets
// are forgotten, and a new key finds a full bucket.
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst, std::size_t keys_max = 100'000)
      : per_second_(per_second), burst_(burst), keys_max_(keys_max) {}
  // Takes a token and returns true, or returns false with `retry_after`
  // set to the whole seconds until one is there.
  bool allow(const std::string& key, int& retry_after_seconds);
  // True (with `retry_after`) when the key's bucket is empty; takes nothing.
  bool exhausted(const std::string& key, int& retry_after_seconds);
  // Takes a token if there is one (a failure counted against the key).
  void charge(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point refilled;
  };
  Bucket& refill(const std::string& key);
  int seconds_to_next(const Bucket& b) const;

  double per_second_;
  double burst_;
  std::size_t keys_max_;
  std::map<std::string, Bucket> buckets_;
  std::mutex mutex_;
};

}  // namespace wallet::daemon
