// The database layer's retry loop and migrations, with injected and real faults.
#include <atomic>
#include <set>
#include <thread>

#include "reconcile/reconcile.hpp"
#include "support.hpp"

using namespace wallet;

namespace {
RetryPolicy fast_policy() { return RetryPolicy{4, std::chrono::milliseconds(1), std::chrono::milliseconds(4)}; }
}  // namespace

TEST_CASE("serialization failures and deadlocks are retried, then reported as temporary") {
  Store store(test::conninfo(), fast_policy());
  int calls = 0;
  Status ok = store.run("test", [&](pqxx::connection_base&) {
    if (++calls < 3) throw pqxx::serialization_failure("could not serialize access");
  });
  CHECK(ok.ok());
  CHECK(calls == 3);
  CHECK(store.last_attempts() == 3);

  calls = 0;
  Status exhausted = store.run("test", [&](pqxx::connection_base&) {
    ++calls;
    throw pqxx::deadlock_detected("deadlock detected");
  });
  CHECK(exhausted.code() == Code::temporary);
  CHECK(calls == 4);
  CHECK(exhausted.message().find("failed after 4 attempts") != std::string::npos);
  CHECK(exhausted.message().find("deadlock") != std::string::npos);
}

TEST_CASE("a broken connection or unknown commit outcome is retried on a new connection") {
  Store store(test::conninfo(), fast_policy());
  std::set<const void*> connections;
  int calls = 0;
  Status status = store.run("test", [&](pqxx::connection_base& c) {
    connections.insert(&c);
    ++calls;
    if (calls == 1) throw pqxx::broken_connection("server closed the connection");
    if (calls == 2) throw pqxx::in_doubt_error("commit outcome unknown");
  });
  CHECK(status.ok());
  CHECK(calls == 3);
}

TEST_CASE("errors that retrying cannot fix are returned at once") {
  Store store(test::conninfo(), fast_policy());
  int calls = 0;
  Status status = store.run("test", [&](pqxx::connection_base& c) {
    ++calls;
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1/0");
  });
  CHECK(calls == 1);
  CHECK(status.code() == Code::invalid);  // division by zero is a data exception
}

TEST_CASE("a real terminated backend is survived by reconnecting") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.deposit("alice", asset, "1");
  // Kill every other backend on this database: the Store's own connection too.
  {
    pqxx::nontransaction tx(f.admin);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
  }
  auto movement = f.move(Operation::deposit, "alice", asset, "2", test::fresh_key());
  REQUIRE_MESSAGE(movement.ok(), movement.status().message());
  CHECK(f.store.last_attempts() == 2);
  CHECK(f.balance_minor("alice", asset) == 3);
  f.check_invariants(asset);
}

TEST_CASE("migrate is idempotent and safe from several processes at once") {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Store store(test::admin_conninfo());
      auto result = store.migrate();
      if (!result.ok() || !result->empty()) ++failures;  // already migrated: nothing to apply
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  Store store(test::conninfo());
  auto status = store.migration_status();
  REQUIRE(status.ok());
  for (const auto& m : *status) CHECK(m.applied_at.has_value());
}

TEST_CASE("without prepared statements every operation works and nothing is prepared on the connection") {
  test::Fixture f;
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  Config config;
  config.prepared_statements = false;
  Store store(test::conninfo(), RetryPolicy{}, StoreOptions{false});
  Ledger ledger(store, config);
  MovementInput deposit = test::movement(Operation::deposit, "alice", asset, "10.00");
  deposit.idempotency_key = test::fresh_key();
  auto first = ledger.move(deposit);
  REQUIRE(first.ok());
  auto replay = ledger.move(deposit);
  REQUIRE(replay.ok());
  CHECK(replay->replayed);
  CHECK(replay->transaction_id == first->transaction_id);
  REQUIRE(ledger.move(test::movement(Operation::transfer, "alice", asset, "2.50", "bob")).ok());
  HistoryQuery query;
  query.user = "alice";
  query.asset = asset;
  auto history = ledger.history(query, "");
  REQUIRE(history.ok());
  CHECK(history->entries.size() == 2);
  REQUIRE(ledger.transaction(std::to_string(first->transaction_id)).ok());
  auto report = reconcile(store, false, Milliseconds{3'600'000}, {});
  REQUIRE(report.ok());
  CHECK_FALSE(report->standby);
  CHECK(report->drift.empty());
  // Nothing named was left on the server session by this Store.
  Status checked = store.run("check", [](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    CHECK(tx.exec1("SELECT count(*) FROM pg_prepared_statements")[0].as<int>() == 0);
  });
  CHECK(checked.ok());
}
