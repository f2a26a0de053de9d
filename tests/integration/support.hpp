// Helpers for integration tests against the private PostgreSQL started by
// scripts/test. The code under test connects as the application role
// (WALLETCTL_DATABASE: a login that is only a member of wallet_app); the
// tests' own checks, fault injection and migrations use the admin
// (WALLET_TEST_ADMIN_DATABASE: the superuser; WALLETCTL_DATABASE when
// unset). Each test makes its own asset with a fresh random code, so tests
// never see each other's data.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <pqxx/pqxx>
#include <random>
#include <string>

#include "core/config/config.hpp"
#include "core/ledger/ledger.hpp"
#include "core/store/store.hpp"

namespace test {

inline std::string conninfo() {
  const char* value = std::getenv("WALLETCTL_DATABASE");
  REQUIRE_MESSAGE(value != nullptr, "set WALLETCTL_DATABASE (scripts/test does) to the test database");
  return value;
}

// The superuser's conninfo, for checks and fault injection.
inline std::string admin_conninfo() {
  const char* value = std::getenv("WALLET_TEST_ADMIN_DATABASE");
  return value != nullptr ? value : conninfo();
}

// The reconcile verifier's conninfo (a member of wallet_verifier: only it
// advances the reconcile checkpoint); the admin's when unset.
inline std::string verifier_conninfo() {
  const char* value = std::getenv("WALLET_TEST_VERIFIER_DATABASE");
  return value != nullptr ? value : admin_conninfo();
}

// A new asset code, unique per call: "T" + 8 random letters.
inline std::string fresh_asset_code() {
  static std::mt19937_64 random{std::random_device{}()};
  std::string code = "T";
  for (int i = 0; i < 8; ++i) code += static_cast<char>('A' + random() % 26);
  return code;
}

inline std::string fresh_key() { return "test-" + wallet::generate_idempotency_key(); }

// A movement request by "tester" (to: the receiving user of a transfer).
inline wallet::MovementInput movement(wallet::Operation op, const std::string& user, const std::string& asset,
                                      const std::string& amount, const std::string& to = "") {
  wallet::MovementInput in;
  in.operation = op;
  in.user = user;
  in.to_user = to;
  in.asset = asset;
  in.amount = amount;
  in.actor = "tester";
  return in;
}

// Migrates the test database as the admin (once per process).
inline void migrate_once() {
  static const bool migrated = [] {
    wallet::Store admin_store(admin_conninfo());
    auto result = admin_store.migrate();
    REQUIRE_MESSAGE(result.ok(), result.status().message());
    return true;
  }();
  (void)migrated;
}

// A Store and Ledger on the test database (migrated), as the application role.
struct Fixture {
  wallet::Config config;
  wallet::Store store{conninfo()};
  wallet::Ledger ledger{store, config};
  pqxx::connection admin{admin_conninfo()};  // for direct SQL checks, as the superuser
  wallet::Store verifier{verifier_conninfo()};  // reconcile as wallet_verifier

  Fixture() { migrate_once(); }

  std::string asset(int scale = 2) {
    std::string code = fresh_asset_code();
    REQUIRE(ledger.asset_add(code, scale, "test asset", "tester").ok());
    return code;
  }

  void wallet(const std::string& user, const std::string& asset) {
    auto result = ledger.wallet_create(user, asset, "tester");
    REQUIRE_MESSAGE(result.ok(), result.status().message());
  }

  wallet::MovementOutcome move(wallet::Operation op, const std::string& user, const std::string& asset,
                                        const std::string& amount, const std::string& key = "",
                                        const std::string& to = "", const std::string& kind = "") {
    wallet::MovementInput in = movement(op, user, asset, amount, to);
    in.kind = kind;
    in.idempotency_key = key;
    return ledger.move(in);
  }

  wallet::Movement deposit(const std::string& user, const std::string& asset, const std::string& amount) {
    auto result = move(wallet::Operation::deposit, user, asset, amount, fresh_key());
    REQUIRE_MESSAGE(result.ok(), result.status().message());
    REQUIRE(result->status == "posted");
    return *result;
  }

  int64_t scalar(const std::string& query) {
    pqxx::nontransaction tx(admin);
    auto row = tx.exec1(query);
    return row[0].is_null() ? 0 : row[0].as<int64_t>();
  }

  int64_t balance_minor(const std::string& user, const std::string& asset) {
    return scalar("SELECT coalesce(sum(balance), 0) FROM wallets WHERE user_id = " + admin.quote(user) +
                  " AND asset = " + admin.quote(asset));
  }

  int64_t entry_count(const std::string& asset) {
    return scalar("SELECT count(*) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id WHERE w.asset = " +
                  admin.quote(asset));
  }

  // The ledger invariants for one asset: entries sum to zero, stored
  // balances equal the entries, each wallet's versions and running
  // balances continue, and every hash chains to the previous one.
  void check_invariants(const std::string& asset) {
    const std::string a = admin.quote(asset);
    CHECK(scalar("SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id "
                 "WHERE w.asset = " + a) == 0);
    CHECK(scalar("SELECT count(*) FROM wallets w WHERE w.asset = " + a +
                 " AND w.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE wallet_id = w.id)") == 0);
    CHECK(scalar("SELECT count(*) FROM wallets WHERE asset = " + a + " AND NOT is_system AND balance - reserved < 0") == 0);
    CHECK(scalar("SELECT count(*) FROM (SELECT e.*, e AS entry_row, t AS transaction_row, "
                 " lag(e.hash, 1, '\\x'::bytea) OVER w AS prev_hash, "
                 " lag(e.balance_after, 1, 0::bigint) OVER w AS prev_after, row_number() OVER w AS n "
                 " FROM ledger_entries e JOIN wallets ww ON ww.id = e.wallet_id"
                 " LEFT JOIN transactions t ON t.id = e.transaction_id WHERE ww.asset = " + a +
                 " WINDOW w AS (PARTITION BY e.wallet_id ORDER BY e.version)) x "
                 "WHERE x.version <> x.n OR x.balance_before <> x.prev_after "
                 " OR x.hash IS DISTINCT FROM wallet_entry_expected_hash(x.prev_hash, x.entry_row, x.transaction_row)") == 0);
    CHECK(scalar("SELECT count(*) FROM transactions t WHERE t.asset = " + a + " AND t.status = 'posted' AND "
                 "(SELECT count(*) FROM ledger_entries e WHERE e.transaction_id = t.id) <> 2") == 0);
    CHECK(scalar("SELECT count(*) FROM transactions t WHERE t.asset = " + a + " AND t.status <> 'posted' AND "
                 "EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)") == 0);
  }
};

}  // namespace test
