// The core ledger operations against a real PostgreSQL.
#include <set>

#include "core/domain/amount.hpp"
#include "core/domain/shapes.hpp"
#include "support.hpp"

using namespace wallet;
using test::fresh_key;

TEST_CASE("asset add creates the system accounts; duplicates and bad input change nothing") {
  test::Fixture f;
  const std::string code = f.asset(2);
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE asset = '" + code + "' AND is_system") == 3 * 8);
  auto again = f.ledger.asset_add(code, 2, "", "tester");
  CHECK(again.status().code() == Code::conflict);
  CHECK(f.ledger.asset_add("bad code", 2, "", "tester").status().code() == Code::invalid);
  CHECK(f.ledger.asset_add(test::fresh_asset_code(), 19, "", "tester").status().code() == Code::invalid);
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE asset = '" + code + "'") == 24);
  auto assets = f.ledger.assets();
  REQUIRE(assets.ok());
  bool found = false;
  for (const auto& a : *assets) found = found || (a.code == code && a.scale == 2);
  CHECK(found);
}

TEST_CASE("wallet create: one per user and asset; unknown asset is not found") {
  test::Fixture f;
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  CHECK(f.ledger.wallet_create("alice", asset, "tester").status().code() == Code::conflict);
  CHECK(f.ledger.wallet_create("alice", "NOSUCH", "tester").status().code() == Code::not_found);
  CHECK(f.ledger.wallet_create("@treasury", asset, "tester").status().code() == Code::invalid);
  auto list = f.ledger.wallets(std::string("alice"), asset);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->front().balance == 0);
}

TEST_CASE("deposit, withdraw, purchase and transfer move exact amounts with balanced entries") {
  test::Fixture f;
  const std::string asset = f.asset(2);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  f.deposit("alice", asset, "100.50");
  auto transfer = f.move(Operation::transfer, "alice", asset, "40.25", fresh_key(), "bob");
  REQUIRE(transfer.ok());
  CHECK(transfer->status == "posted");
  CHECK(transfer->from_user == "alice");
  CHECK(transfer->to_user == "bob");
  auto withdraw = f.move(Operation::withdraw, "alice", asset, "10", fresh_key());
  REQUIRE(withdraw.ok());
  CHECK(withdraw->to_user == "@settlement");
  auto purchase = f.move(Operation::withdraw, "bob", asset, "0.25", fresh_key(), "", "purchase");
  REQUIRE(purchase.ok());
  CHECK(purchase->to_user == "@revenue");
  auto bonus = f.move(Operation::deposit, "bob", asset, "1", fresh_key(), "", "bonus");
  REQUIRE(bonus.ok());
  CHECK(bonus->kind == "bonus");

  CHECK(f.balance_minor("alice", asset) == 5025);
  CHECK(f.balance_minor("bob", asset) == 4100);
  CHECK(f.balance_minor("@treasury", asset) == -10150);
  CHECK(f.balance_minor("@settlement", asset) == 1000);
  CHECK(f.balance_minor("@revenue", asset) == 25);
  auto balances = f.ledger.balances("alice", asset);
  REQUIRE(balances.ok());
  CHECK(to_json(balances->front())["available"] == "50.25");
  auto treasury = f.ledger.balances("@treasury", asset);
  REQUIRE(treasury.ok());
  CHECK(treasury->front().balance == -10150);
  CHECK(f.entry_count(asset) == 10);
  f.check_invariants(asset);

  auto shown = f.ledger.transaction(std::to_string(transfer->transaction_id));
  REQUIRE(shown.ok());
  REQUIRE(shown->entries.size() == 2);
  CHECK(shown->entries[0].amount == -4025);
  CHECK(shown->entries[1].amount == 4025);
  CHECK(shown->entries[1].balance_after == 4025);
}

TEST_CASE("replaying a key returns the original transaction and changes nothing") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  const std::string key = fresh_key();
  auto first = f.move(Operation::deposit, "alice", asset, "70", key);
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  const int64_t entries = f.entry_count(asset);
  auto second = f.move(Operation::deposit, "alice", asset, "70", key);
  REQUIRE(second.ok());
  CHECK(second->replayed);
  CHECK(second->transaction_id == first->transaction_id);
  CHECK(second->created_at == first->created_at);
  CHECK(f.entry_count(asset) == entries);
  CHECK(f.balance_minor("alice", asset) == 70);
}

TEST_CASE("reusing a key for a different request is a conflict and changes nothing") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  const std::string key = fresh_key();
  REQUIRE(f.move(Operation::deposit, "alice", asset, "70", key).ok());
  for (auto result : {f.move(Operation::deposit, "alice", asset, "71", key),
                      f.move(Operation::deposit, "bob", asset, "70", key),
                      f.move(Operation::deposit, "alice", asset, "70", key, "", "bonus"),
                      f.move(Operation::transfer, "alice", asset, "70", key, "bob"),
                      // the key answers before a missing wallet is reported
                      f.move(Operation::deposit, "nobody", asset, "70", key)}) {
    CHECK(result.status().code() == Code::conflict);
    CHECK(result.status().message().find("already used for a different request") != std::string::npos);
  }
  CHECK(f.balance_minor("alice", asset) == 70);
  CHECK(f.balance_minor("bob", asset) == 0);
  CHECK(f.entry_count(asset) == 2);
}

TEST_CASE("insufficient funds is recorded as failed, changes nothing, and a replay cannot flip it") {
  test::Fixture f;
  const std::string asset = f.asset(2);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  f.deposit("alice", asset, "5");
  const std::string key = fresh_key();
  auto refused = f.move(Operation::transfer, "alice", asset, "10", key, "bob");
  REQUIRE(refused.recorded());
  CHECK(refused.outcome() == Outcome::insufficient_funds);
  CHECK(refused->status == "failed");
  CHECK(refused->error_code == "insufficient_funds");
  CHECK(refused->error_message == "insufficient funds: wallet alice/" + asset + " has 5.00 available, 10.00 requested");
  CHECK(refused.status().code() == Code::insufficient_funds);
  CHECK(refused.exit_code() == 3);
  CHECK(refused.http_status() == 422);
  CHECK(f.balance_minor("alice", asset) == 500);
  CHECK(f.balance_minor("bob", asset) == 0);

  f.deposit("alice", asset, "100");  // now it would be affordable
  auto replay = f.move(Operation::transfer, "alice", asset, "10", key, "bob");
  REQUIRE(replay.recorded());
  CHECK(replay->replayed);
  CHECK(replay->status == "failed");
  CHECK(replay->transaction_id == refused->transaction_id);
  CHECK(f.balance_minor("bob", asset) == 0);
  f.check_invariants(asset);
}

TEST_CASE("unknown user, asset or transaction is not found") {
  test::Fixture f;
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  CHECK(f.move(Operation::deposit, "nobody", asset, "1").status().code() == Code::not_found);
  CHECK(f.move(Operation::deposit, "alice", "NOSUCH", "1").status().code() == Code::not_found);
  CHECK(f.move(Operation::transfer, "alice", asset, "1", "", "nobody").status().code() == Code::not_found);
  CHECK(f.ledger.balances("nobody", std::nullopt).status().code() == Code::not_found);
  CHECK(f.ledger.balances("alice", std::string("NOSUCH")).status().code() == Code::not_found);
  CHECK(f.ledger.transaction("999999999").status().code() == Code::not_found);
  HistoryQuery q;
  q.user = "nobody";
  CHECK(f.ledger.history(q, "").status().code() == Code::not_found);
  CHECK(f.entry_count(asset) == 0);
}

TEST_CASE("bad amounts are invalid input and change nothing") {
  test::Fixture f;
  const std::string asset = f.asset(2);
  f.wallet("alice", asset);
  for (auto amount : {"0", "-1", "1.001", "1e2", "", "abc", "99999999999999999999"}) {
    CAPTURE(amount);
    CHECK(f.move(Operation::deposit, "alice", asset, amount).status().code() == Code::invalid);
  }
  // A deposit that would push @treasury past the int64 range is refused too.
  f.deposit("alice", asset, "92233720368547758.07");
  CHECK(f.move(Operation::deposit, "alice", asset, "0.02").status().code() == Code::invalid);
  CHECK(f.entry_count(asset) == 2);
  f.check_invariants(asset);
}

TEST_CASE("history pages of every size cover all transactions exactly once, newest first") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  std::vector<int64_t> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(f.deposit("alice", asset, std::to_string(i + 1)).transaction_id);
  for (int i = 0; i < 6; ++i) {
    auto t = f.move(Operation::transfer, i % 2 ? "alice" : "bob", asset, "1000", fresh_key(), i % 2 ? "bob" : "alice");
    REQUIRE(t.recorded());
    expected.push_back(t->transaction_id);  // some fail: history lists every status
  }
  std::reverse(expected.begin(), expected.end());
  for (int limit = 1; limit <= 20; ++limit) {
    CAPTURE(limit);
    std::vector<int64_t> seen;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      HistoryQuery q;
      q.user = "alice";
      q.asset = asset;
      q.limit = limit;
      auto result = f.ledger.history(q, cursor);
      REQUIRE(result.ok());
      for (const auto& e : result->entries) seen.push_back(e.transaction_id);
      if (!result->next_cursor) break;
      cursor = std::to_string(*result->next_cursor);
    }
    CHECK(seen == expected);
  }
}

TEST_CASE("history shows signed amounts, balance_after for posted, and filters") {
  test::Fixture f;
  const std::string asset = f.asset(2);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  f.deposit("alice", asset, "10");
  REQUIRE(f.move(Operation::transfer, "alice", asset, "3", fresh_key(), "bob").ok());
  REQUIRE(f.move(Operation::transfer, "alice", asset, "300", fresh_key(), "bob").outcome() ==
          Outcome::insufficient_funds);  // recorded as failed
  HistoryQuery q;
  q.user = "alice";
  q.asset = asset;
  auto all = f.ledger.history(q, "");
  REQUIRE(all.ok());
  REQUIRE(all->entries.size() == 3);
  CHECK(all->entries[0].status == "failed");
  CHECK(all->entries[0].amount == -30000);
  CHECK_FALSE(all->entries[0].balance_after.has_value());
  CHECK(all->entries[1].amount == -300);
  CHECK(*all->entries[1].balance_after == 700);
  CHECK(all->entries[1].counterparty == "bob");
  CHECK(all->entries[2].counterparty == "@treasury");

  q.status = "posted";
  CHECK(f.ledger.history(q, "")->entries.size() == 2);
  q.status.reset();
  q.kind = "deposit";
  CHECK(f.ledger.history(q, "")->entries.size() == 1);
  q.kind.reset();
  q.since = "2999-01-01";
  CHECK(f.ledger.history(q, "")->entries.empty());
  q.since = "not a time";
  CHECK(f.ledger.history(q, "").status().code() == Code::invalid);
  q.since.reset();
  q.until = "2999-01-01T00:00:00Z";
  CHECK(f.ledger.history(q, "")->entries.size() == 3);
  q.status = "bogus";
  CHECK(f.ledger.history(q, "").status().code() == Code::invalid);
  q.status.reset();
  q.limit = 0;
  CHECK(f.ledger.history(q, "").status().code() == Code::invalid);
  q.limit = 10;
  CHECK(f.ledger.history(q, "abc").status().code() == Code::invalid);
  HistoryQuery b;
  b.user = "bob";
  b.asset = asset;
  auto bob = f.ledger.history(b, "");
  REQUIRE(bob.ok());
  CHECK(bob->entries[0].amount == 30000);  // incoming, failed
  CHECK(bob->entries[1].amount == 300);
}

TEST_CASE("ledger entries and audit rows are append-only, even for the owner") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.deposit("alice", asset, "5");
  for (const std::string statement :
       {"UPDATE ledger_entries SET amount = amount + 1", "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries CASCADE", "UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log",
        "TRUNCATE audit_log"}) {
    CAPTURE(statement);
    pqxx::work tx(f.admin);
    CHECK_THROWS_WITH_AS(tx.exec(statement), doctest::Contains("append-only"), pqxx::sql_error);
  }
  f.check_invariants(asset);
}

TEST_CASE("wallets, assets and transactions are never deleted or re-keyed, even by the owner") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  const std::string id = std::to_string(f.deposit("alice", asset, "5").transaction_id);
  const std::string alice = "user_id = 'alice' AND asset = '" + asset + "'";
  for (const std::string& statement : std::vector<std::string>{
           "DELETE FROM wallets WHERE " + alice, "UPDATE wallets SET user_id = 'mallory' WHERE " + alice,
        "UPDATE wallets SET asset = 'GC' WHERE " + alice, "UPDATE wallets SET shard = 1 WHERE " + alice,
        "TRUNCATE wallets CASCADE",
        "DELETE FROM transactions WHERE id = " + id, "UPDATE transactions SET amount = amount + 1 WHERE id = " + id,
        "UPDATE transactions SET credit_wallet_id = (SELECT id FROM wallets WHERE user_id = 'bob' AND asset = '" +
            asset + "') WHERE id = " + id,
        "UPDATE transactions SET idempotency_key = 'other' WHERE id = " + id,
        "UPDATE transactions SET kind = 'bonus' WHERE id = " + id, "TRUNCATE transactions CASCADE",
        "DELETE FROM assets WHERE code = '" + asset + "'", "UPDATE assets SET scale = 2 WHERE code = '" + asset + "'",
        "UPDATE assets SET code = 'ZZ' WHERE code = '" + asset + "'", "TRUNCATE assets CASCADE"}) {
    CAPTURE(statement);
    pqxx::work tx(f.admin);
    CHECK_THROWS_WITH_AS(tx.exec(statement), doctest::Contains("never"), pqxx::sql_error);
  }
  // What may change still does: a pending transaction's status columns
  // (post, void, retry) and an asset's name. A posted one is final.
  wallet::MovementInput hold_in = test::movement(Operation::withdraw, "alice", asset, "1");
  hold_in.pending = true;
  auto hold = f.ledger.move(hold_in);
  REQUIRE_MESSAGE(hold.ok(), hold.status().message());
  const std::string hold_id = std::to_string(hold->transaction_id);
  {
    pqxx::work tx(f.admin);
    CHECK_NOTHROW(tx.exec("UPDATE transactions SET attempts = attempts + 1, last_error = 'x' WHERE id = " + hold_id));
    CHECK_NOTHROW(tx.exec("UPDATE assets SET name = 'renamed' WHERE code = '" + asset + "'"));
  }
  {
    pqxx::work tx(f.admin);
    CHECK_THROWS_WITH_AS(tx.exec("UPDATE transactions SET attempts = attempts + 1 WHERE id = " + id),
                         doctest::Contains("final"), pqxx::sql_error);
  }
  f.check_invariants(asset);
}

TEST_CASE("the format rules of wallets and transactions hold for direct SQL too") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  const std::string id = std::to_string(f.deposit("alice", asset, "5").transaction_id);
  const std::string wallets = "(SELECT id FROM wallets WHERE user_id = 'alice' AND asset = '" + asset +
                              "'), (SELECT id FROM wallets WHERE user_id = 'bob' AND asset = '" + asset + "')";
  const auto txn = [&](const std::string& kind, const std::string& status, const std::string& key,
                       const std::string& memo) {
    return "INSERT INTO transactions(idempotency_key, fingerprint, kind, status, asset, debit_wallet_id, "
           "credit_wallet_id, amount, memo) VALUES ('" + key + "', 'f', '" + kind + "', '" + status + "', '" +
           asset + "', " + wallets + ", 1, '" + memo + "')";
  };
  for (const std::string& statement : std::vector<std::string>{
           "INSERT INTO wallets(user_id, asset) VALUES ('bad user', '" + asset + "')",
        "INSERT INTO wallets(user_id, asset) VALUES ('" + std::string(65, 'a') + "', '" + asset + "')",
        "INSERT INTO wallets(user_id, asset, shard) VALUES ('carol', '" + asset + "', 1)",
        "INSERT INTO wallets(user_id, asset, shard) VALUES ('@treasury', '" + asset + "', 64)",
        txn("gift", "pending", fresh_key(), ""), txn("transfer", "done", fresh_key(), ""),
        txn("transfer", "pending", std::string(129, 'k'), ""), txn("transfer", "pending", "", ""),
        txn("transfer", "pending", fresh_key(), std::string(501, 'm')),
        "UPDATE transactions SET status = 'lost' WHERE id = " + id,
        "UPDATE transactions SET memo = repeat('m', 501) WHERE id = " + id,
        "UPDATE transactions SET posted_amount = amount + 1 WHERE id = " + id,
        "UPDATE transactions SET error_code = 'x' WHERE id = " + id,
        "INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash) "
        "SELECT wallet_id, transaction_id, amount, version + 100, balance_before, balance_after + 1, hash "
        "FROM ledger_entries WHERE transaction_id = " + id + " LIMIT 1"}) {
    CAPTURE(statement);
    pqxx::work tx(f.admin);
    CHECK_THROWS_AS(tx.exec(statement), pqxx::check_violation);
  }
  {  // the same statement with valid values is accepted (then rolled back)
    pqxx::work tx(f.admin);
    CHECK_NOTHROW(tx.exec(txn("transfer", "pending", fresh_key(), "fine")));
    CHECK_NOTHROW(tx.exec("INSERT INTO wallets(user_id, asset) VALUES ('carol', '" + asset + "')"));
  }
  f.check_invariants(asset);
}

TEST_CASE("the database refuses a negative user balance even from direct SQL") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  pqxx::work tx(f.admin);
  CHECK_THROWS_AS(tx.exec("UPDATE wallets SET balance = -1 WHERE user_id = 'alice' AND asset = '" + asset + "'"),
                  pqxx::check_violation);
}

TEST_CASE("every state change leaves an audit row, refusals included") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("carol", asset);
  const int64_t before = f.scalar("SELECT max(id) FROM audit_log");
  f.deposit("carol", asset, "5");
  (void)f.move(Operation::withdraw, "carol", asset, "50", fresh_key());  // insufficient
  (void)f.ledger.wallet_create("carol", asset, "tester");                // conflict
  (void)f.move(Operation::deposit, "carol", "NOSUCH", "1", fresh_key());  // not found
  auto rows = f.ledger.audit({std::string("tester"), std::nullopt, 100});
  REQUIRE(rows.ok());
  std::multiset<std::string> outcomes;
  for (const auto& r : *rows) {
    if (r.id > before) outcomes.insert(r.action + ":" + r.outcome);
  }
  CHECK(outcomes.count("deposit:posted") == 1);
  CHECK(outcomes.count("withdraw:insufficient_funds") == 1);
  CHECK(outcomes.count("wallet.create:conflict") == 1);
  CHECK(outcomes.count("deposit:not_found") == 1);
}

TEST_CASE("the SQL and C++ amount formats agree") {
  test::Fixture f;
  for (int scale : {0, 2, 8, 18}) {
    for (int64_t value : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1050}, int64_t{-123456789012},
                          std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
      pqxx::nontransaction tx(f.admin);
      auto sql = tx.exec_params1("SELECT wallet_format_amount($1, $2)", value, scale)[0].as<std::string>();
      CHECK(sql == format_amount(value, scale));
    }
  }
}
