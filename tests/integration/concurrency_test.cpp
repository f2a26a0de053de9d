// Many threads at once on the same wallets; then the invariants. (Process-
// level concurrency through the walletctl binary is in tests/e2e.)
#include <atomic>
#include <mutex>
#include <thread>

#include "support.hpp"

using namespace wallet;

TEST_CASE("concurrent deposits from the sharded treasury keep every balance exact") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  constexpr int kUsers = 4, kThreads = 8, kPerThread = 40;
  for (int u = 0; u < kUsers; ++u) f.wallet("u" + std::to_string(u), asset);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Config config;
      Store store(test::conninfo());
      Ledger ledger(store, config);
      for (int i = 0; i < kPerThread; ++i) {
        MovementInput in;
        in.operation = Operation::deposit;
        in.user = "u" + std::to_string((t + i) % kUsers);
        in.asset = asset;
        in.amount = "3";
        in.actor = "tester";
        auto r = ledger.move(in);
        if (!r.ok() || r->status != "posted") ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  int64_t total = 0;
  for (int u = 0; u < kUsers; ++u) total += f.balance_minor("u" + std::to_string(u), asset);
  CHECK(total == 3 * kThreads * kPerThread);
  CHECK(f.balance_minor("@treasury", asset) == -total);
  // The load really was spread: more than one treasury shard was used.
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE user_id = '@treasury' AND asset = '" + asset +
                 "' AND balance <> 0") > 1);
  f.check_invariants(asset);
}

TEST_CASE("one key sent by many threads at once is applied once; every answer names the same transaction") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("payer", asset);
  f.wallet("payee", asset);
  f.deposit("payer", asset, "100");
  constexpr int kThreads = 12, kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = test::fresh_key();
    std::vector<MovementOutcome> results(kThreads, Status::Internal("not run"));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Config config;
        Store store(test::conninfo());
        Ledger ledger(store, config);
        MovementInput in = test::movement(Operation::transfer, "payer", asset, "7", "payee");
        in.idempotency_key = key;
        results[t] = ledger.move(in);
      });
    }
    for (auto& t : threads) t.join();
    int fresh = 0;
    for (const auto& r : results) {
      REQUIRE_MESSAGE(r.ok(), r.status().message());
      CHECK(r->transaction_id == results[0]->transaction_id);
      CHECK(r->status == "posted");
      fresh += !r->replayed;
    }
    CHECK(fresh == 1);
  }
  CHECK(f.balance_minor("payer", asset) == 100 - 7 * kRounds);
  CHECK(f.balance_minor("payee", asset) == 7 * kRounds);
  f.check_invariants(asset);
}

TEST_CASE("transfers in both directions from many threads never deadlock and conserve the total") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("left", asset);
  f.wallet("right", asset);
  f.deposit("left", asset, "1000");
  f.deposit("right", asset, "1000");
  std::atomic<int> posted{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      Config config;
      Store store(test::conninfo());
      Ledger ledger(store, config);
      for (int i = 0; i < 30; ++i) {
        MovementInput in;
        in.operation = Operation::transfer;
        const bool forward = (t + i) % 2 == 0;
        in.user = forward ? "left" : "right";
        in.to_user = forward ? "right" : "left";
        in.asset = asset;
        in.amount = std::to_string(1 + (t * 7 + i * 13) % 150);
        in.actor = "tester";
        auto r = ledger.move(in);
        if (!r.recorded()) {
          ++errors;
          MESSAGE(r.status().message());
        } else if (r->status == "posted") {
          ++posted;
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(posted + refused == 16 * 30);
  CHECK(f.balance_minor("left", asset) + f.balance_minor("right", asset) == 2000);
  f.check_invariants(asset);
}

TEST_CASE("deposits wait for a busy treasury instead of failing (all shards locked)") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  for (int u = 0; u < 12; ++u) f.wallet("busy" + std::to_string(u), asset);
  pqxx::work blocker(f.admin);
  blocker.exec("SELECT 1 FROM wallets WHERE user_id = '@treasury' AND asset = '" + asset + "' FOR UPDATE");
  std::atomic<int> ok{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::vector<std::thread> threads;
  for (int u = 0; u < 12; ++u) {
    threads.emplace_back([&, u] {
      Config config;
      Store store(test::conninfo());
      Ledger ledger(store, config);
      MovementInput in;
      in.operation = Operation::deposit;
      in.user = "busy" + std::to_string(u);
      in.asset = asset;
      in.amount = "1";
      in.actor = "tester";
      auto r = ledger.move(in);
      if (r.ok() && r->status == "posted") {
        ++ok;
      } else {
        std::lock_guard lock(failures_mutex);
        failures.push_back(r.ok() ? r->status : r.status().message());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all of them waiting now
  blocker.commit();
  for (auto& t : threads) t.join();
  for (const auto& failure : failures) MESSAGE(failure);
  CHECK(ok == 12);
  f.check_invariants(asset);
}
