#include "daemon/guard.hpp"

#include <cmath>

namespace wallet::daemon {

bool constant_time_equal(const std::string& a, const std::string& b) {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= static_cast<unsigned char>(x ^ y);
  }
  return difference == 0;
}

std::optional<std::size_t> Authenticator::authenticate(const std::optional<std::string>& authorization) const {
  static const std::string kScheme = "Bearer ";
  if (!authorization || authorization->size() <= kScheme.size() ||
      authorization->compare(0, kScheme.size(), kScheme) != 0) {
    return std::nullopt;
  }
  const std::string presented = authorization->substr(kScheme.size());
  std::optional<std::size_t> match;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (constant_time_equal(presented, tokens_[i]) && !match) match = i;
  }
  return match;
}

bool RateLimiter::allow(const std::string& key, int& retry_after_seconds) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(rate_), now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
  b.tokens = std::min<double>(rate_, b.tokens + elapsed * rate_);
  b.refilled = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_seconds = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_)));
  return false;
}

}  // namespace wallet::daemon
