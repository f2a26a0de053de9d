#include "daemon/metrics.hpp"

#include <locale>
#include <sstream>

#include "core/domain/prometheus.hpp"

namespace wallet::daemon {

namespace {

// Label values are ours (route names, kinds), but escape anyway.
std::string label(const std::string& value) { return prometheus_label_value(value); }

}  // namespace

void Metrics::request(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route.empty() ? "unmatched" : route, method, status}];
  Histogram& h = latency_[route.empty() ? "unmatched" : route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::movement(const std::string& kind, const std::string& outcome) {
  std::lock_guard lock(mutex_);
  ++movements_[{kind, outcome}];
}

void Metrics::retry_action(const std::string& action) {
  std::lock_guard lock(mutex_);
  ++retries_[action];
}

std::string Metrics::render() const {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  std::lock_guard lock(mutex_);
  out << "# HELP walletd_requests_total HTTP requests by route, method and status.\n"
         "# TYPE walletd_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out << "walletd_requests_total{route=\"" << label(route) << "\",method=\"" << label(method)
        << "\",status=\"" << status << "\"} " << n << '\n';
  }
  out << "# HELP walletd_request_duration_seconds HTTP request latency by route.\n"
         "# TYPE walletd_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out << "walletd_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\"" << kBuckets[i]
          << "\"} " << h.counts[i] << '\n';
    }
    out << "walletd_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\"+Inf\"} " << h.count << '\n'
        << "walletd_request_duration_seconds_sum{route=\"" << label(route) << "\"} " << h.sum << '\n'
        << "walletd_request_duration_seconds_count{route=\"" << label(route) << "\"} " << h.count << '\n';
  }
  out << "# HELP walletd_movements_total Money movements by kind and outcome.\n"
         "# TYPE walletd_movements_total counter\n";
  for (const auto& [key, n] : movements_) {
    out << "walletd_movements_total{kind=\"" << label(key.first) << "\",outcome=\"" << label(key.second) << "\"} "
        << n << '\n';
  }
  out << "# HELP walletd_retry_actions_total What the background worker did to stuck transactions.\n"
         "# TYPE walletd_retry_actions_total counter\n";
  for (const auto& [action, n] : retries_) {
    out << "walletd_retry_actions_total{action=\"" << label(action) << "\"} " << n << '\n';
  }
  out << "# HELP walletd_stuck_transactions Pending transactions that are stuck, at the worker's last look.\n"
         "# TYPE walletd_stuck_transactions gauge\n"
      << "walletd_stuck_transactions " << stuck_.load() << '\n'
      << "# HELP walletd_connections_open HTTP connections open.\n"
         "# TYPE walletd_connections_open gauge\n"
      << "walletd_connections_open " << connections_.load() << '\n'
      << "# HELP walletd_pool_in_use Database sessions in use.\n"
         "# TYPE walletd_pool_in_use gauge\n"
      << "walletd_pool_in_use " << pool_in_use_.load() << '\n'
      << "# HELP walletd_pool_size Database sessions in the pool.\n"
         "# TYPE walletd_pool_size gauge\n"
      << "walletd_pool_size " << pool_size_.load() << '\n';
  return out.str();
}

}  // namespace wallet::daemon
