// Prometheus metrics of walletd (text exposition format, classic locale).
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace wallet::daemon {

class Metrics {
 public:
  // Latency buckets, in seconds: from well under a movement's cost to the
  // request timeout.
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

  void request(const std::string& route, const std::string& method, int status, double seconds);
  void movement(const std::string& kind, const std::string& outcome);
  void retry_action(const std::string& action);
  void set_stuck(long long count) { stuck_ = count; }
  void set_connections(int open) { connections_ = open; }
  void set_pool(int in_use, int size) {
    pool_in_use_ = in_use;
    pool_size_ = size;
  }

  // The whole exposition, as GET /metrics serves it. Thread-safe.
  std::string render() const;

 private:
  struct Histogram {
    std::array<unsigned long long, kBuckets.size()> counts{};
    unsigned long long count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, unsigned long long> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, unsigned long long> movements_;
  std::map<std::string, unsigned long long> retries_;
  std::atomic<long long> stuck_{0};
  std::atomic<int> pool_in_use_{0};
  std::atomic<int> connections_{0};
  std::atomic<int> pool_size_{0};
};

}  // namespace wallet::daemon
