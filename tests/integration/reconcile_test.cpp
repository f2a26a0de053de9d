// Reconciliation finds and names damage done behind the ledger's back
// (direct SQL as the superuser, append-only triggers disabled for the
// test), and is clean again once the damage is undone.
#include "reconcile/reconcile.hpp"
#include "support.hpp"

using namespace wallet;
using test::fresh_key;

namespace {

// Runs SQL as the superuser with the append-only trigger off, in one
// transaction (the trigger is back on when it commits).
void tamper(test::Fixture& f, const std::string& sql) {
  pqxx::work tx(f.admin);
  tx.exec("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only");
  tx.exec(sql);
  tx.exec("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only");
  tx.commit();
}

// Reconciles as the verifier (a member of wallet_verifier), which advances
// the checkpoint past a clean ledger.
ReconcileReport run(test::Fixture& f, bool full) {
  auto report = reconcile(f.verifier, full, Milliseconds{3'600'000}, {});
  REQUIRE_MESSAGE(report.ok(), report.status().message());
  return *report;
}

// The findings of one check for one wallet.
int findings(const ReconcileReport& r, const std::string& check, int64_t wallet_id) {
  int n = 0;
  for (const auto& d : r.drift) n += d.check == check && d.wallet_id == wallet_id;
  return n;
}

struct Ledger2 {
  std::string asset;
  int64_t alice = 0, bob = 0;
};

Ledger2 small_ledger(test::Fixture& f) {
  Ledger2 l;
  l.asset = f.asset(0);
  f.wallet("alice", l.asset);
  f.wallet("bob", l.asset);
  f.deposit("alice", l.asset, "100");
  for (int i = 0; i < 3; ++i) REQUIRE(f.move(Operation::transfer, "alice", l.asset, "7", fresh_key(), "bob").ok());
  l.alice = f.scalar("SELECT id FROM wallets WHERE user_id = 'alice' AND asset = '" + l.asset + "'");
  l.bob = f.scalar("SELECT id FROM wallets WHERE user_id = 'bob' AND asset = '" + l.asset + "'");
  // Start every scenario from a clean, checkpointed ledger.
  auto clean = run(f, true);
  const std::string why = "ledger not clean before the test: " + to_json(clean).dump();
  REQUIRE_MESSAGE(clean.drift.empty(), why);
  return l;
}

}  // namespace

TEST_CASE("reconcile: a changed stored balance is found, by incremental and full runs, and undone") {
  test::Fixture f;
  auto l = small_ledger(f);
  f.scalar("UPDATE wallets SET balance = balance + 5 WHERE id = " + std::to_string(l.alice) + " RETURNING 1");
  for (bool full : {false, true}) {
    auto r = run(f, full);
    CHECK(exit_code_of(r) == kExitDrift);
    CHECK(findings(r, "balance", l.alice) == 1);
    auto json = to_json(r);
    bool named = false;
    for (const auto& d : json["drift"]) {
      named = named || (d["user"] == "alice" && d["asset"] == l.asset && d["check"] == "balance" &&
                        d["stored"] == "84" && d["computed"] == "79" && d["difference"] == "5");
    }
    CHECK(named);
  }
  f.scalar("UPDATE wallets SET balance = balance - 5 WHERE id = " + std::to_string(l.alice) + " RETURNING 1");
  CHECK(run(f, false).drift.empty());
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("reconcile: an entry changed together with its wallet's balance breaks the hash") {
  test::Fixture f;
  auto l = small_ledger(f);
  const std::string last = "(SELECT max(version) FROM ledger_entries WHERE wallet_id = " + std::to_string(l.bob) + ")";
  tamper(f, "UPDATE ledger_entries SET amount = amount + 5, balance_after = balance_after + 5 WHERE wallet_id = " +
                std::to_string(l.bob) + " AND version = " + last +
                "; UPDATE wallets SET balance = balance + 5 WHERE id = " + std::to_string(l.bob));
  auto full = run(f, true);
  CHECK(exit_code_of(full) == kExitDrift);
  CHECK(findings(full, "hash", l.bob) == 1);
  CHECK(findings(full, "balance", l.bob) == 0);  // the balance agrees with the (tampered) entries...
  bool imbalance = false;
  for (const auto& d : full.drift) imbalance = imbalance || (d.check == "asset_sum" && d.asset == l.asset);
  CHECK(imbalance);  // ...but the asset no longer sums to zero
  CHECK(exit_code_of(run(f, false)) == kExitDrift);
  tamper(f, "UPDATE ledger_entries SET amount = amount - 5, balance_after = balance_after - 5 WHERE wallet_id = " +
                std::to_string(l.bob) + " AND version = " + last +
                "; UPDATE wallets SET balance = balance - 5 WHERE id = " + std::to_string(l.bob));
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("reconcile --full: rows that refer to nothing are reported as orphans") {
  test::Fixture f;
  auto l = small_ledger(f);
  const std::string missing = std::to_string(f.scalar("SELECT max(id) + 1000 FROM wallets"));
  const std::string txn =
      std::to_string(f.scalar("SELECT max(transaction_id) FROM ledger_entries WHERE wallet_id = " + std::to_string(l.bob)));
  const std::string no_txn = std::to_string(f.scalar("SELECT max(id) + 1000 FROM transactions"));
  const std::string key = fresh_key();
  // Made behind the triggers' back, as only a bug or a superuser could:
  // an entry on a wallet that does not exist, an entry of a transaction
  // that does not exist, and a (failed) transaction to a missing wallet.
  const auto as_superuser = [&](const std::string& sql) {
    pqxx::work tx(f.admin);
    tx.exec("SET LOCAL session_replication_role = replica");
    tx.exec(sql);
    tx.commit();
  };
  as_superuser("INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash)"
               " VALUES (" + missing + ", " + txn + ", 5, 1, 0, 5, '\\x00'), (" + std::to_string(l.bob) + ", " + no_txn +
               ", 5, 1000, 0, 5, '\\x00');"
               " INSERT INTO transactions(idempotency_key, fingerprint, kind, status, asset, debit_wallet_id,"
               " credit_wallet_id, amount, error_code, last_error) VALUES ('" + key + "', 'f', 'transfer', 'failed', '" +
               l.asset + "', " + std::to_string(l.alice) + ", " + missing + ", 1, 'insufficient_funds', 'x')");
  auto r = run(f, true);
  CHECK(exit_code_of(r) == kExitDrift);
  std::vector<std::string> orphans;
  for (const auto& d : r.drift) {
    if (d.check == "orphan") orphans.push_back(d.detail);
  }
  CAPTURE(to_json(r).dump());
  REQUIRE(orphans.size() == 3);
  CHECK(orphans[0].find("is on wallet " + missing + ", which does not exist") != std::string::npos);
  CHECK(orphans[1].find("belongs to transaction " + no_txn + ", which does not exist") != std::string::npos);
  CHECK(orphans[2].find("refers to credit wallet " + missing + ", which does not exist") != std::string::npos);
  as_superuser("DELETE FROM ledger_entries WHERE wallet_id = " + missing + " OR transaction_id = " + no_txn +
               "; DELETE FROM transactions WHERE idempotency_key = '" + key + "'");
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("reconcile: a deleted entry is found") {
  test::Fixture f;
  auto l = small_ledger(f);
  const std::string where = "wallet_id = " + std::to_string(l.bob) + " AND version = 2";
  const int64_t id = f.scalar("SELECT id FROM ledger_entries WHERE " + where);
  tamper(f, "CREATE TEMP TABLE saved_entry AS SELECT * FROM ledger_entries WHERE " + where +
                "; DELETE FROM ledger_entries WHERE " + where);
  auto r = run(f, true);
  CHECK(exit_code_of(r) == kExitDrift);
  CHECK(findings(r, "chain", l.bob) == 1);
  CHECK(findings(r, "version", l.bob) == 1);
  CHECK(findings(r, "balance", l.bob) == 1);
  tamper(f, "INSERT INTO ledger_entries OVERRIDING SYSTEM VALUE SELECT * FROM saved_entry; DROP TABLE saved_entry");
  CHECK(f.scalar("SELECT count(*) FROM ledger_entries WHERE id = " + std::to_string(id)) == 1);
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("reconcile: a broken hash chain in already-verified entries is caught by --full") {
  test::Fixture f;
  auto l = small_ledger(f);
  const std::string where = "wallet_id = " + std::to_string(l.alice) + " AND version = 2";
  tamper(f, "CREATE TEMP TABLE saved_hash AS SELECT hash FROM ledger_entries WHERE " + where +
                "; UPDATE ledger_entries SET hash = sha256('forged') WHERE " + where);
  // The incremental run only looks at what is new since its checkpoint.
  CHECK(run(f, false).drift.empty());
  auto r = run(f, true);
  CHECK(exit_code_of(r) == kExitDrift);
  REQUIRE(findings(r, "hash", l.alice) == 1);
  for (const auto& d : r.drift) {
    if (d.check == "hash" && d.wallet_id == l.alice) CHECK(d.detail.find("version 2 ") != std::string::npos);
  }
  tamper(f, "UPDATE ledger_entries SET hash = (SELECT hash FROM saved_hash) WHERE " + where +
                "; DROP TABLE saved_hash");
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("reconcile: a transaction marked posted without its entries is found") {
  test::Fixture f;
  auto l = small_ledger(f);
  MovementInput in;
  in.operation = Operation::transfer;
  in.user = "alice";
  in.to_user = "bob";
  in.asset = l.asset;
  in.amount = "1";
  in.pending = true;
  in.actor = "tester";
  auto h = f.ledger.move(in);
  REQUIRE(h.ok());
  REQUIRE(f.ledger.void_transaction(std::to_string(h->transaction_id), "", "tester").ok());
  const std::string id = std::to_string(h->transaction_id);
  // A voided transaction is final: only the superuser, past the triggers, can flip it.
  const auto as_superuser = [&](const std::string& sql) {
    pqxx::work tx(f.admin);
    tx.exec("SET LOCAL session_replication_role = replica");
    tx.exec(sql);
    tx.commit();
  };
  as_superuser("UPDATE transactions SET status = 'posted', posted_amount = amount WHERE id = " + id);
  auto r = run(f, true);
  CHECK(exit_code_of(r) == kExitDrift);
  CHECK(findings(r, "transaction", l.alice) == 1);
  CHECK(findings(r, "transaction", l.bob) == 1);
  as_superuser("UPDATE transactions SET status = 'voided', posted_amount = NULL WHERE id = " + id);
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("reconcile: a reservation without its hold is found") {
  test::Fixture f;
  auto l = small_ledger(f);
  f.scalar("UPDATE wallets SET reserved = 3 WHERE id = " + std::to_string(l.alice) + " RETURNING 1");
  auto r = run(f, false);
  CHECK(findings(r, "reserved", l.alice) == 1);
  f.scalar("UPDATE wallets SET reserved = 0 WHERE id = " + std::to_string(l.alice) + " RETURNING 1");
  CHECK(run(f, false).drift.empty());
}

TEST_CASE("incremental reconcile verifies exactly the entries written since the last clean run") {
  test::Fixture f;
  auto l = small_ledger(f);
  REQUIRE(run(f, false).drift.empty());  // catch up
  REQUIRE(f.move(Operation::transfer, "bob", l.asset, "2", fresh_key(), "alice").ok());
  auto r = run(f, false);
  CHECK(r.drift.empty());
  CHECK(r.entries == 2);
  CHECK(r.wallets == 2);
  CHECK(r.transactions == 1);
  auto again = run(f, false);
  CHECK(again.entries == 0);
}

// As the superuser, past every trigger (session_replication_role), in one transaction.
void behind_the_triggers(test::Fixture& f, const std::string& sql) {
  pqxx::work tx(f.admin);
  tx.exec("SET LOCAL session_replication_role = replica");
  tx.exec(sql);
  tx.commit();
}

TEST_CASE("incremental reconcile: an entry written without touching its wallet's row is found") {
  test::Fixture f;
  auto l = small_ledger(f);
  REQUIRE(run(f, false).drift.empty());  // checkpoint and high-water mark at the current end
  const std::string bob = std::to_string(l.bob);
  const std::string txn =
      std::to_string(f.scalar("SELECT max(transaction_id) FROM ledger_entries WHERE wallet_id = " + bob));
  // The next version of bob's chain, balances continuing, but bob's row
  // (version, balance, last hash) left as it was.
  behind_the_triggers(f, "INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before,"
                         " balance_after, hash) SELECT w.id, " + txn + ", 5, w.version + 1, w.balance, w.balance + 5,"
                         " '\\x00' FROM wallets w WHERE w.id = " + bob);
  for (int i = 0; i < 2; ++i) {  // reported, and reported again: the checkpoint does not pass it
    auto r = run(f, false);
    CAPTURE(to_json(r).dump());
    CHECK(exit_code_of(r) == kExitDrift);
    CHECK(findings(r, "version", l.bob) == 1);
    CHECK_FALSE(r.checkpoint_advanced);
  }
  behind_the_triggers(f, "DELETE FROM ledger_entries WHERE wallet_id = " + bob +
                             " AND version > (SELECT version FROM wallets WHERE id = " + bob + ")");
  CHECK(run(f, false).drift.empty());
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("incremental reconcile: new entries of a missing wallet or transaction, or below the checkpoint") {
  test::Fixture f;
  auto l = small_ledger(f);
  REQUIRE(run(f, false).drift.empty());
  const std::string bob = std::to_string(l.bob);
  const std::string missing_wallet = std::to_string(f.scalar("SELECT max(id) + 1000 FROM wallets"));
  const std::string missing_txn = std::to_string(f.scalar("SELECT max(id) + 1000 FROM transactions"));
  const std::string txn =
      std::to_string(f.scalar("SELECT max(transaction_id) FROM ledger_entries WHERE wallet_id = " + bob));
  // An entry on a wallet that does not exist, and bob's version 2 entry
  // replaced by a new row (a new id, so above the high-water mark) that
  // names a transaction that does not exist.
  behind_the_triggers(
      f, "INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash)"
         " VALUES (" + missing_wallet + ", " + txn + ", 5, 1, 0, 5, '\\x00');"
         " CREATE TEMP TABLE saved_entry AS SELECT * FROM ledger_entries WHERE wallet_id = " + bob + " AND version = 2;"
         " DELETE FROM ledger_entries WHERE wallet_id = " + bob + " AND version = 2;"
         " INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash,"
         " created_at, hash_version) SELECT wallet_id, " + missing_txn + ", amount, version, balance_before,"
         " balance_after, hash, created_at, hash_version FROM saved_entry");
  for (int i = 0; i < 2; ++i) {
    auto r = run(f, false);
    const std::string json = to_json(r).dump();
    CAPTURE(json);
    CHECK(exit_code_of(r) == kExitDrift);
    CHECK(json.find("is on wallet " + missing_wallet + ", which does not exist") != std::string::npos);
    CHECK(json.find("belong to transaction " + missing_txn + ", which does not exist") != std::string::npos);
    CHECK(json.find("which the checkpoint had already verified") != std::string::npos);
    CHECK_FALSE(r.checkpoint_advanced);
  }
  behind_the_triggers(f, "DELETE FROM ledger_entries WHERE wallet_id = " + missing_wallet +
                             " OR transaction_id = " + missing_txn + ";"
                             " INSERT INTO ledger_entries OVERRIDING SYSTEM VALUE SELECT * FROM saved_entry;"
                             " DROP TABLE saved_entry");
  CHECK(run(f, false).drift.empty());
  CHECK(run(f, true).drift.empty());
}

TEST_CASE("reconcile as the application role checks but never advances the checkpoint") {
  test::Fixture f;
  auto l = small_ledger(f);
  REQUIRE(f.move(Operation::transfer, "bob", l.asset, "2", fresh_key(), "alice").ok());
  const int64_t runs = f.scalar("SELECT count(*) FROM reconcile_runs");
  const int64_t mark = f.scalar("SELECT entry_id FROM reconcile_high_water");
  auto as_app = reconcile(f.store, false, Milliseconds{3'600'000}, {});
  REQUIRE(as_app.ok());
  CHECK(as_app->drift.empty());
  CHECK(as_app->entries == 2);
  CHECK_FALSE(as_app->verifier);
  CHECK_FALSE(as_app->checkpoint_advanced);
  CHECK(f.scalar("SELECT count(*) FROM reconcile_runs") == runs);
  CHECK(f.scalar("SELECT entry_id FROM reconcile_high_water") == mark);
  // Nor may it call the checkpoint functions itself.
  pqxx::connection app(test::conninfo());
  for (const std::string& sql : std::vector<std::string>{"SELECT wallet_reconcile_save_wallets(0)",
                                                         "SELECT wallet_reconcile_save_asset('" + l.asset + "', 0)",
                                                         "SELECT wallet_reconcile_record(true, 0, 0, 0)"}) {
    pqxx::nontransaction tx(app);
    CHECK_THROWS_AS(tx.exec(sql), pqxx::insufficient_privilege);
  }
  auto verified = run(f, false);
  CHECK(verified.verifier);
  CHECK(verified.checkpoint_advanced);
  CHECK(verified.entries == 2);
  CHECK(f.scalar("SELECT count(*) FROM reconcile_runs") == runs + 1);
  CHECK(f.scalar("SELECT entry_id FROM reconcile_high_water") > mark);
}

TEST_CASE("reconcile lists stuck transactions, and exit 11 only when there is no drift") {
  test::Fixture f;
  auto l = small_ledger(f);
  MovementInput in;
  in.operation = Operation::withdraw;
  in.user = "alice";
  in.asset = l.asset;
  in.amount = "1";
  in.pending = true;
  in.timeout = Milliseconds{1000};
  in.actor = "tester";
  auto h = f.ledger.move(in);
  REQUIRE(h.ok());
  auto fresh = reconcile(f.store, false, Milliseconds{3'600'000}, {});
  bool listed = false;
  for (const auto& s : fresh->stuck) listed = listed || s.transaction_id == h->transaction_id;
  CHECK_FALSE(listed);
  // Older than --stuck-after: stuck even before it expires.
  auto aged = reconcile(f.store, false, Milliseconds{0}, {});
  for (const auto& s : aged->stuck) listed = listed || s.transaction_id == h->transaction_id;
  CHECK(listed);
  CHECK(exit_code_of(*aged) == kExitStuck);
  REQUIRE(f.ledger.void_transaction(std::to_string(h->transaction_id), "test cleanup", "tester").ok());
}
