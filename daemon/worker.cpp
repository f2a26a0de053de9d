#include "daemon/worker.hpp"

#include <spdlog/spdlog.h>

#include "core/ledger/ledger.hpp"
#include "core/store/store.hpp"
#include "reconcile/reconcile.hpp"

namespace wallet::daemon {

namespace {
// Stuck transactions the worker handles per round; the rest wait a round.
constexpr int kWorkerBatch = 100;
constexpr const char* kActor = "walletd:worker";
}  // namespace

void Worker::run() {
  Store store(config_.database, RetryPolicy{}, StoreOptions{config_.prepared_statements});
  Ledger ledger(store, config_);
  auto next_round = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const bool due = std::chrono::steady_clock::now() >= next_round;
    lock.unlock();
    settle_queued(store, ledger);
    if (due) {
      round(store, ledger);
      next_round = std::chrono::steady_clock::now() + config_.daemon.worker_interval;
    }
    lock.lock();
    wake_.wait_until(lock, next_round, [this] { return stopping_ || !queue_.empty(); });
  }
}

void Worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

void Worker::settle_soon(int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kQueueMax) return;
    queue_.push_back(id);
  }
  wake_.notify_all();
}

void Worker::settle_queued(Store& store, Ledger& ledger) {
  for (;;) {
    int64_t id = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || queue_.empty()) return;
      id = queue_.front();
      queue_.pop_front();
    }
    auto action = store.drive_pending(id, ledger.settlement(), kActor);
    if (!action.ok()) {
      spdlog::warn("worker: first settlement attempt of transaction {} failed: {}", id, action.status().message());
    } else if (action->has_value()) {
      const auto& a = **action;
      metrics_.retry_action(a.action);
      spdlog::info("worker: transaction {} {}: {}", a.transaction_id, a.action, a.detail);
    }
  }
}

void Worker::round(Store& store, Ledger& ledger) {
  auto report = retry(store, ledger.settlement(), kWorkerBatch, false, kActor);
  if (!report.ok()) {
    spdlog::warn("worker: retry failed: {}", report.status().message());
  } else {
    for (const auto& a : report->actions) {
      metrics_.retry_action(a.action);
      spdlog::info("worker: transaction {} {}: {}", a.transaction_id, a.action, a.detail);
    }
  }
  auto stuck = stuck_count(store, config_.reconcile_stuck_after);
  if (stuck.ok()) metrics_.set_stuck(*stuck);
}

}  // namespace wallet::daemon
