// A bounded pool of database sessions (Store + Ledger, one connection each).
// Connections open lazily and reopen after PostgreSQL restarts (the Store
// does that); a request that cannot get a session in time is answered 503.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/ledger/ledger.hpp"
#include "core/store/store.hpp"

namespace wallet::daemon {

class Pool {
 public:
  // Sessions connect to `conninfo` (the main database, or read_database).
  Pool(const Config& config, std::string conninfo, int size, RetryPolicy policy);

  // Runs `work` with a free session; waits at most `wait` for one.
  // Code::temporary when none became free in time. Thread-safe.
  Status with(std::chrono::milliseconds wait, const std::function<void(Ledger&, Store&)>& work);

  int size() const { return static_cast<int>(sessions_.size()); }
  int in_use() const;

 private:
  struct Session {
    std::unique_ptr<Store> store;
    std::unique_ptr<Ledger> ledger;
  };
  const Config& config_;
  std::vector<Session> sessions_;
  std::vector<Session*> free_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
};

}  // namespace wallet::daemon
