// The hot account: deposits of one asset all come from @treasury, spread
// over its shards. Concurrent deposits (the bench's --hot load) must keep
// every balance exact, and a deposit that finds every shard busy must wait
// for one, never fail.
#include <chrono>
#include <thread>

#include "core/bulk/bench.hpp"
#include "support.hpp"

using namespace wallet;

TEST_CASE("concurrent hot deposits keep every balance exact and the asset's sum zero") {
  test::Fixture f;
  const std::string a = test::fresh_asset_code();
  BenchOptions options;
  options.asset = a;
  options.clients = 4;
  options.wallets = 20;
  options.hot = true;
  options.duration = Milliseconds{2'000};
  auto report = run_bench(test::conninfo(), f.config, options);
  REQUIRE_MESSAGE(report.ok(), report.status().message());
  CHECK(report->errors == 0);
  CHECK(report->ops > 0);
  CHECK(report->refused == 0);
  // Every deposit the bench counted is one posted transaction, and the
  // users hold exactly what @treasury issued.
  const std::string quoted = "'" + a + "'";
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = " + quoted + " AND status = 'posted'") ==
        report->ops + options.wallets);
  const int64_t issued =
      f.scalar("SELECT coalesce(sum(amount), 0) FROM transactions WHERE asset = " + quoted + " AND status = 'posted'");
  CHECK(f.scalar("SELECT sum(balance) FROM wallets WHERE asset = " + quoted + " AND NOT is_system") == issued);
  CHECK(f.balance_minor("@treasury", a) == -issued);
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE user_id = '@treasury' AND asset = " + quoted +
                 " AND balance <> 0") > 1);
  f.check_invariants(a);

  // A second run reuses the wallets: their opening balances are replayed, not paid twice.
  options.duration = Milliseconds{1'000};
  options.hot = false;
  auto again = run_bench(test::conninfo(), f.config, options);
  REQUIRE(again.ok());
  CHECK(again->errors == 0);
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = " + quoted + " AND kind = 'deposit' AND memo = "
                 "'opening balance'") == options.wallets);
  f.check_invariants(a);
}

TEST_CASE("a deposit that finds every treasury shard locked waits for one and succeeds") {
  test::Fixture f;
  const std::string a = f.asset(0);
  f.wallet("waiter", a);
  // Each round: another transaction holds all eight shards; the deposit
  // must block until they are released, then go through. (Before 0003's
  // fix, about one round in three failed with "system account not found".)
  constexpr int kRounds = 12;
  for (int round = 0; round < kRounds; ++round) {
    pqxx::connection holder_connection(test::admin_conninfo());
    pqxx::work holder(holder_connection);
    holder.exec("SELECT 1 FROM wallets WHERE user_id = '@treasury' AND asset = '" + a + "' FOR UPDATE");
    MovementOutcome result = Status::Internal("not run");
    std::thread deposit([&] { result = f.move(Operation::deposit, "waiter", a, "1", test::fresh_key()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    holder.abort();
    deposit.join();
    REQUIRE_MESSAGE(result.ok(), result.status().message());
    CHECK(result->status == "posted");
  }
  CHECK(f.balance_minor("waiter", a) == kRounds);
  CHECK(f.balance_minor("@treasury", a) == -kRounds);
  f.check_invariants(a);
}
