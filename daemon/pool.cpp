#include "daemon/pool.hpp"

namespace wallet::daemon {

Pool::Pool(const Config& config, std::string conninfo, int size, RetryPolicy policy) : config_(config) {
  sessions_.resize(static_cast<std::size_t>(size));
  for (auto& s : sessions_) {
    s.store = std::make_unique<Store>(conninfo, policy, StoreOptions{config_.prepared_statements});
    s.ledger = std::make_unique<Ledger>(*s.store, config_);
    free_.push_back(&s);
  }
}

Status Pool::with(std::chrono::milliseconds wait, const std::function<void(Ledger&, Store&)>& work) {
  Session* session = nullptr;
  {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, wait, [this] { return !free_.empty(); })) {
      return Status::Temporary("all " + std::to_string(sessions_.size()) + " database sessions are busy");
    }
    session = free_.back();
    free_.pop_back();
  }
  struct Release {
    Pool* pool;
    Session* session;
    ~Release() {
      {
        std::lock_guard lock(pool->mutex_);
        pool->free_.push_back(session);
      }
      pool->available_.notify_one();
    }
  } release{this, session};
  work(*session->ledger, *session->store);
  return Status::Ok();
}

int Pool::in_use() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(sessions_.size() - free_.size());
}

}  // namespace wallet::daemon
