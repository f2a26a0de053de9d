// Bearer-token authentication and per-token rate limiting.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace wallet::daemon {

// Compares in time that depends only on the lengths, not on where the
// strings differ (so response times leak nothing about a token).
bool constant_time_equal(const std::string& a, const std::string& b);

class Authenticator {
 public:
  explicit Authenticator(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  // The index of the token in an "Authorization: Bearer <token>" header,
  // or nullopt. Every configured token is compared, whichever matches.
  std::optional<std::size_t> authenticate(const std::optional<std::string>& authorization) const;

 private:
  std::vector<std::string> tokens_;
};

// A token bucket per key: `rate` requests per second, bursts up to `rate`.
class RateLimiter {
 public:
  explicit RateLimiter(int rate_per_second) : rate_(rate_per_second) {}
  // True when the request may go ahead; otherwise `retry_after` is set to
  // the whole seconds until a token is free. Thread-safe.
  bool allow(const std::string& key, int& retry_after_seconds);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point refilled;
  };
  int rate_;
  std::map<std::string, Bucket> buckets_;
  std::mutex mutex_;
};

}  // namespace wallet::daemon
