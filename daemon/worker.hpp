// walletd's background worker: every worker_interval, the same retry as
// `walletctl retry` (settlement re-drives, expired holds) and the stuck
// count for /metrics; and, as soon as they are queued, the first
// settlement attempts of withdrawals made through the API (which answer
// `pending` without waiting for the command). It has its own database
// session, so a slow settlement command never holds the request pool.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "core/config/config.hpp"
#include "daemon/metrics.hpp"

namespace wallet {
class Ledger;
class Store;
}  // namespace wallet

namespace wallet::daemon {

class Worker {
 public:
  Worker(const Config& config, Metrics& metrics) : config_(config), metrics_(metrics) {}

  // Runs rounds until stop(). Call from one thread.
  void run();
  // Thread-safe; run() returns after its current step.
  void stop();
  // Queues the first settlement attempt of transaction `id` and wakes the
  // worker. Thread-safe. Past kQueueMax ids the id is not queued: its
  // settlement lease expires and a later round (of any walletd or
  // `walletctl retry`) settles it.
  void settle_soon(int64_t id);

  static constexpr std::size_t kQueueMax = 10'000;

 private:
  void round(Store& store, Ledger& ledger);
  void settle_queued(Store& store, Ledger& ledger);

  const Config& config_;
  Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<int64_t> queue_;
  bool stopping_ = false;
};

}  // namespace wallet::daemon
