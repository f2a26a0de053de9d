#include "daemon/guard.hpp"

#include <algorithm>
#include <cmath>

#include "core/domain/sha256.hpp"

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

unsigned scope_bits(const std::vector<std::string>& names) {
  unsigned bits = 0;
  for (const auto& n : names) {
    if (n == "read") bits |= kScopeRead;
    if (n == "move") bits |= kScopeMove;
    if (n == "operate") bits |= kScopeOperate;
  }
  return bits;
}

Authenticator::Authenticator(const std::vector<DaemonToken>& named, const std::vector<std::string>& plain) {
  for (const auto& t : named) tokens_.push_back({t.sha256, {t.name, scope_bits(t.scopes)}});
  for (std::size_t i = 0; i < plain.size(); ++i) {
    tokens_.push_back({sha256_hex(plain[i]), {"token" + std::to_string(i + 1), kScopesAll}});
  }
}

const Principal* Authenticator::authenticate(const std::optional<std::string>& authorization) const {
  static const std::string kScheme = "Bearer ";
  if (!authorization || authorization->size() <= kScheme.size() ||
      authorization->compare(0, kScheme.size(), kScheme) != 0) {
    return nullptr;
  }
  const std::string presented = sha256_hex(std::string_view(*authorization).substr(kScheme.size()));
  const Principal* match = nullptr;
  for (const auto& t : tokens_) {
    if (constant_time_equal(presented, t.sha256) && match == nullptr) match = &t.principal;
  }
  return match;
}

const Principal* Authenticator::find(const std::string& name) const {
  for (const auto& t : tokens_) {
    if (t.principal.name == name) return &t.principal;
  }
  return nullptr;
}

RateLimiter::Bucket& RateLimiter::refill(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  if (buckets_.size() >= keys_max_ && buckets_.count(key) == 0) {
    std::erase_if(buckets_, [&](const auto& entry) {
      const double elapsed = std::chrono::duration<double>(now - entry.second.refilled).count();
      return entry.second.tokens + elapsed * per_second_ >= burst_;
    });
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
  b.refilled = now;
  if (buckets_.size() > keys_max_) {
    // Still full of busy keys: this one is not tracked (a full bucket).
    static thread_local Bucket untracked;
    untracked = b;
    buckets_.erase(it);
    return untracked;
  }
  return b;
}

int RateLimiter::seconds_to_next(const Bucket& b) const {
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_)));
}

bool RateLimiter::allow(const std::string& key, int& retry_after_seconds) {
  std::lock_guard lock(mutex_);
  Bucket& b = refill(key);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_seconds = seconds_to_next(b);
  return false;
}

bool RateLimiter::exhausted(const std::string& key, int& retry_after_seconds) {
  std::lock_guard lock(mutex_);
  Bucket& b = refill(key);
  if (b.tokens >= 1.0) return false;
  retry_after_seconds = seconds_to_next(b);
  return true;
}

void RateLimiter::charge(const std::string& key) {
  std::lock_guard lock(mutex_);
  Bucket& b = refill(key);
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

}  // namespace wallet::daemon
