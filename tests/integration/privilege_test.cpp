// Least privilege (0005_roles.sql): the programs' database role (a login
// that is only a member of wallet_app) can read and call the ledger's
// entry points, and nothing else: every direct write, schema change or
// escalation is refused with SQLSTATE 42501 (insufficient_privilege).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <thread>

#include "core/bulk/import.hpp"
#include "core/store/migrations.hpp"
#include "reconcile/reconcile.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

// The SQLSTATE `statement` fails with on a fresh transaction of `c`; "" if it succeeds.
std::string sqlstate_of(pqxx::connection& c, const std::string& statement) {
  try {
    pqxx::work tx(c);
    tx.exec(statement);
    tx.abort();
    return "";
  } catch (const pqxx::insufficient_privilege&) {
    return "42501";  // libpqxx 6 throws this one without its SQLSTATE
  } catch (const pqxx::sql_error& error) {
    return error.sqlstate();
  }
}

// A connection as the application role, checked to be one: not a
// superuser, not the owner, a member of wallet_app.
struct AppConnection {
  pqxx::connection connection{test::conninfo()};
  AppConnection() {
    pqxx::nontransaction tx(connection);
    const auto row = tx.exec1(
        "SELECT r.rolsuper, pg_has_role(current_user, 'wallet_app', 'USAGE'), "
        "pg_has_role(current_user, 'wallet_owner', 'USAGE'), current_user FROM pg_roles r WHERE r.rolname = current_user");
    const std::string role = row[3].as<std::string>();
    REQUIRE_MESSAGE(!row[0].as<bool>(), "WALLETCTL_DATABASE must name a login that is only a member of wallet_app "
                                        "(scripts/test sets one up), not the superuser "
                                            << role);
    REQUIRE(row[1].as<bool>());
    REQUIRE(!row[2].as<bool>());
  }
};

}  // namespace

TEST_CASE("the application role cannot write tables, change the schema or escalate: 42501") {
  test::Fixture f;
  const std::string a = f.asset(0);
  f.wallet("alice", a);
  f.deposit("alice", a, "10");
  const std::string q = f.admin.quote(a);
  const int64_t entries_before = f.entry_count(a);
  const int64_t audit_before = f.scalar("SELECT count(*) FROM audit_log");
  AppConnection app;

  const std::vector<std::string> refused = {
      // Ledger entries: append-only by grants as well as by trigger.
      "UPDATE ledger_entries SET amount = amount + 1",
      "DELETE FROM ledger_entries",
      "INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash) "
      "SELECT wallet_id, transaction_id, amount, version + 1000, 0, amount, hash FROM ledger_entries LIMIT 1",
      "TRUNCATE ledger_entries CASCADE",
      // Audit rows.
      "UPDATE audit_log SET actor = 'someone else'",
      "DELETE FROM audit_log",
      "INSERT INTO audit_log(actor, action, outcome) VALUES ('forged', 'deposit', 'posted')",
      "TRUNCATE audit_log",
      // Balances and transactions only move through wallet_move() and friends.
      "UPDATE wallets SET balance = balance + 1000000 WHERE user_id = 'alice' AND asset = " + q,
      "UPDATE wallets SET reserved = 0",
      "INSERT INTO wallets(user_id, asset) VALUES ('mallory', " + q + ")",
      "DELETE FROM wallets WHERE user_id = 'alice'",
      "INSERT INTO transactions(idempotency_key, fingerprint, kind, status, asset, debit_wallet_id, credit_wallet_id, "
      "amount) SELECT 'forged', 'x', 'deposit', 'posted', asset, id, id + 1, 1 FROM wallets LIMIT 1",
      "UPDATE transactions SET status = 'voided'",
      "DELETE FROM transactions",
      "TRUNCATE wallets, transactions CASCADE",
      "INSERT INTO assets(code, scale) VALUES ('FORGED', 0)",
      // The reconcile checkpoint (it decides what incremental runs verify).
      "DELETE FROM reconcile_wallets",
      "UPDATE reconcile_assets SET entry_sum = 0",
      "INSERT INTO reconcile_runs(full_run, entries, drift, stuck) VALUES (true, 0, 0, 0)",
      "UPDATE reconcile_high_water SET entry_id = entry_id + 1000000",
      "SELECT wallet_reconcile_save_wallets(1000000000)",
      // Row locks would let it stall every movement.
      "SELECT 1 FROM wallets FOR UPDATE",
      "SELECT 1 FROM transactions FOR UPDATE SKIP LOCKED",
      // Schema: no CREATE on it, owner of nothing.
      "CREATE TABLE evil (x int)",
      "CREATE TABLE public.evil (x int)",
      "CREATE VIEW evil AS SELECT 1",
      "CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS 'SELECT 1'",
      "CREATE SCHEMA evil",
      "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only",
      "ALTER TABLE wallets DROP CONSTRAINT wallets_available_not_negative",
      "ALTER TABLE transactions ADD COLUMN evil int",
      "ALTER FUNCTION wallet_move(text, text, text, text, text, text, bigint, text, boolean, interval, text, jsonb, "
      "boolean, interval, text) SECURITY INVOKER",
      "CREATE OR REPLACE FUNCTION wallet_system_shards() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 1'",
      "DROP TABLE audit_log",
      "DROP FUNCTION wallet_move(text, text, text, text, text, text, bigint, text, boolean, interval, text, jsonb, "
      "boolean, interval, text)",
      "COMMENT ON TABLE wallets IS 'mine'",
      // Inner helpers, sequences and the privilege map are not its to call.
      "SELECT wallet_apply_entry(w, NULL::transactions, 1) FROM wallets w LIMIT 1",
      "SELECT wallet_lock_system('@treasury', " + q + ")",
      "SELECT nextval('transactions_id_seq')",
      "SELECT wallet_apply_privileges()",
      // No way up.
      "SET ROLE wallet_owner",
      "GRANT wallet_owner TO CURRENT_USER",
      "GRANT INSERT ON reconcile_runs TO CURRENT_USER",  // (on a table it may read: no error, a no-op)
  };
  for (const std::string& statement : refused) {
    CAPTURE(statement);
    CHECK(sqlstate_of(app.connection, statement) == "42501");
  }
  // Forged audit rows are refused by the refusal-recording entry point too.
  CHECK(sqlstate_of(app.connection, "SELECT wallet_audit_failure('x', 'deposit', '{}', 'posted', 'forged')") == "WL400");

  CHECK(f.entry_count(a) == entries_before);
  CHECK(f.scalar("SELECT count(*) FROM audit_log") == audit_before);
  CHECK(f.balance_minor("alice", a) == 10);
  CHECK(f.scalar("SELECT count(*) FROM pg_class WHERE relname = 'evil'") == 0);
  pqxx::nontransaction tx(app.connection);
  CHECK(!tx.exec1("SELECT has_table_privilege('ledger_entries', 'INSERT, UPDATE, DELETE, TRUNCATE')")[0].as<bool>());
  f.check_invariants(a);
}

TEST_CASE("every ledger operation works as the application role") {
  test::Fixture f;
  AppConnection app;  // the Fixture's Store connects the same way
  const std::string a = f.asset(2);
  f.wallet("alice", a);
  f.wallet("bob", a);
  f.deposit("alice", a, "100");
  auto moved = f.move(Operation::transfer, "alice", a, "10", test::fresh_key(), "bob");
  REQUIRE_MESSAGE(moved.ok(), moved.status().message());
  auto refused = f.move(Operation::withdraw, "bob", a, "1000", test::fresh_key());
  REQUIRE(refused.recorded());
  CHECK(refused->status == "failed");  // recorded under its key, as a refusal
  auto reversed = f.ledger.reverse(std::to_string(moved->transaction_id), test::fresh_key(), "tester");
  REQUIRE_MESSAGE(reversed.ok(), reversed.status().message());

  // Holds: post, void, and an expired one voided by retry (claims rows).
  MovementInput hold = test::movement(Operation::transfer, "alice", a, "5", "bob");
  hold.pending = true;
  auto held = f.ledger.move(hold);
  REQUIRE_MESSAGE(held.ok(), held.status().message());
  REQUIRE(f.ledger.post(std::to_string(held->transaction_id), "2", "tester").ok());
  auto held2 = f.ledger.move(hold);
  REQUIRE(held2.ok());
  REQUIRE(f.ledger.void_transaction(std::to_string(held2->transaction_id), "changed mind", "tester").ok());
  hold.timeout = Milliseconds{1000};
  auto expiring = f.ledger.move(hold);
  REQUIRE(expiring.ok());
  {
    // Let it expire without waiting: a hold's expiry never changes, so only
    // the superuser, past the triggers, can move it.
    pqxx::work tx(f.admin);
    tx.exec("SET LOCAL session_replication_role = replica");
    tx.exec("UPDATE transactions SET expires_at = now() - interval '1 second' WHERE id = " +
            std::to_string(expiring->transaction_id));
    tx.commit();
  }
  auto retried = retry(f.store, nullptr, 100, false, "tester");
  REQUIRE_MESSAGE(retried.ok(), retried.status().message());
  CHECK(f.ledger.transaction(std::to_string(expiring->transaction_id))->movement.status == "voided");

  // Reads.
  CHECK(f.ledger.balances("alice", a).ok());
  CHECK(f.ledger.wallets(std::nullopt, a).ok());
  CHECK(f.ledger.assets().ok());
  HistoryQuery hq;
  hq.user = "alice";
  hq.asset = a;
  CHECK(f.ledger.history(hq, "").ok());
  CHECK(f.ledger.transaction(std::to_string(moved->transaction_id)).ok());
  CHECK(f.ledger.audit({std::string("tester"), std::nullopt, 10}).ok());
  CHECK(f.ledger.migration_status().ok());
  auto up_to_date = f.ledger.migrate();  // nothing pending: a no-op the application may run
  REQUIRE_MESSAGE(up_to_date.ok(), up_to_date.status().message());
  CHECK(up_to_date->empty());

  // A refusal is audited through its entry point.
  const int64_t audit_before = f.scalar("SELECT count(*) FROM audit_log WHERE outcome = 'conflict'");
  CHECK(f.ledger.wallet_create("alice", a, "tester").status().code() == Code::conflict);
  CHECK(f.scalar("SELECT count(*) FROM audit_log WHERE outcome = 'conflict'") == audit_before + 1);

  // Import, and reconcile with its checkpoint.
  ImportRecord record;
  record.type = RecordType::wallet;
  record.user = "carol";
  record.asset = a;
  record.amount = "5";
  auto line = import_line_of(record, 1, 2, false);
  REQUIRE_MESSAGE(line.ok(), line.status().message());
  std::vector<ImportLine> lines = {*line};
  auto imported = f.store.import_batch(lines, "tester", "privilege_test");
  REQUIRE_MESSAGE(imported.ok(), imported.status().message());
  CHECK((*imported)[0].outcome == ImportOutcome::applied);
  // (Reconcile runs as the verifier: only wallet_verifier advances the
  // checkpoint and records runs; see reconcile_test.cpp.)
  const int64_t runs_before = f.scalar("SELECT count(*) FROM reconcile_runs");
  for (bool full : {false, true}) {
    auto report = reconcile(f.verifier, full, Milliseconds{3'600'000}, {});
    REQUIRE_MESSAGE(report.ok(), report.status().message());
    CHECK(report->drift.empty());
  }
  CHECK(f.scalar("SELECT count(*) FROM reconcile_runs") == runs_before + 2);
  CHECK(f.scalar("SELECT count(*) FROM reconcile_wallets r JOIN wallets w ON w.id = r.wallet_id "
                 "WHERE w.user_id = 'carol' AND w.asset = " + f.admin.quote(a) + " AND r.version = w.version") == 1);
  CHECK(f.balance_minor("carol", a) == 500);
  f.check_invariants(a);
}

TEST_CASE("entry points run as the owner with a fixed search_path; inner helpers stay plain and inlinable") {
  test::Fixture f;
  const auto configured = [&](const std::string& signature) {
    return f.scalar("SELECT count(*) FROM pg_proc WHERE oid = '" + signature +
                    "'::regprocedure AND prosecdef AND proowner = 'wallet_owner'::regrole "
                    "AND proconfig = ARRAY['search_path=pg_catalog, ' || quote_ident(current_schema()) || ', pg_temp']");
  };
  for (const char* entry : {"wallet_move(text, text, text, text, text, text, bigint, text, boolean, interval, text, "
                            "jsonb, boolean, interval, text)",
                            "wallet_settlement_reference(bigint, text)",
                            "wallet_post(bigint, bigint, text, jsonb)", "wallet_void(bigint, text, text, jsonb)",
                            "wallet_reverse(bigint, text, text, jsonb)", "wallet_create(text, text, text)",
                            "wallet_asset_add(text, integer, text, text)", "wallet_claim_due(boolean, timestamptz)",
                            "wallet_reconcile_save_wallets(bigint)"}) {
    CAPTURE(entry);
    CHECK(configured(entry) == 1);
  }
  // Helpers called per movement or per entry: no SECURITY DEFINER, no SET.
  CHECK(f.scalar("SELECT count(*) FROM pg_proc WHERE proname IN ('wallet_apply_entry', 'wallet_entry_hash', "
                 "'wallet_movement_of', 'wallet_lock_system', 'wallet_replay', 'wallet_move_apply', "
                 "'wallet_rfc3339', 'wallet_format_amount') AND (prosecdef OR proconfig IS NOT NULL)") == 0);
  // Every object of the schema belongs to wallet_owner.
  CHECK(f.scalar("SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                 "AND relowner <> 'wallet_owner'::regrole") == 0);
  CHECK(f.scalar("SELECT count(*) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace "
                 "AND proowner <> 'wallet_owner'::regrole") == 0);
  // Reconcile's hash check is inlined for the application role too (it
  // needs EXECUTE on wallet_entry_hash, and the function no SET clause).
  AppConnection app;
  pqxx::nontransaction tx(app.connection);
  std::string plan;
  for (const auto& row : tx.exec("EXPLAIN VERBOSE SELECT wallet_entry_hash(e.hash, e.wallet_id, e.version, "
                                 "e.transaction_id, e.amount, e.balance_before, e.balance_after) FROM ledger_entries e")) {
    plan += row[0].as<std::string>() + "\n";
  }
  CAPTURE(plan);
  CHECK(plan.find("sha256") != std::string::npos);
  CHECK(plan.find("wallet_entry_hash") == std::string::npos);
}

TEST_CASE("the privilege map puts back what a later migration replaced or created") {
  test::Fixture f;
  const std::string entry = "wallet_settlement_attempted(bigint)";
  {
    // What a later migration may do: CREATE OR REPLACE resets SECURITY
    // DEFINER and SET clauses; a new table belongs to whoever migrates.
    pqxx::work tx(f.admin);
    tx.exec("ALTER FUNCTION " + entry + " SECURITY INVOKER RESET ALL");
    tx.exec("CREATE TABLE privilege_probe (x int)");
    tx.exec("GRANT ALL ON privilege_probe TO PUBLIC");
    tx.exec("SELECT wallet_apply_privileges()");  // what walletctl migrate runs after applying migrations
    tx.commit();
  }
  CHECK(f.scalar("SELECT count(*) FROM pg_proc WHERE oid = '" + entry +
                 "'::regprocedure AND prosecdef AND proconfig IS NOT NULL") == 1);
  CHECK(f.scalar("SELECT count(*) FROM pg_class WHERE relname = 'privilege_probe' "
                 "AND relowner = 'wallet_owner'::regrole") == 1);
  AppConnection app;
  CHECK(sqlstate_of(app.connection, "INSERT INTO privilege_probe VALUES (1)") == "42501");
  CHECK(sqlstate_of(app.connection, "SELECT * FROM privilege_probe") == "42501");
  pqxx::work tx(f.admin);
  tx.exec("DROP TABLE privilege_probe");
  tx.commit();
}

TEST_CASE("a temporary table of the caller cannot redirect an entry point") {
  test::Fixture f;
  const std::string a = f.asset(0);
  f.wallet("alice", a);
  AppConnection app;
  pqxx::nontransaction tx(app.connection);
  // pg_temp comes first in a plain search_path; the entry points list it last.
  tx.exec("CREATE TEMP TABLE transactions (id bigint)");
  tx.exec("CREATE TEMP TABLE wallets (id bigint)");
  auto row = tx.exec1("SELECT status FROM wallet_move('temp-" + test::fresh_key() +
                      "', 'fp', 'deposit', '@treasury', 'alice', " + app.connection.quote(a) +
                      ", 7, '', false, NULL, 'tester', '{}')");
  CHECK(row[0].as<std::string>() == "posted");
  CHECK(f.balance_minor("alice", a) == 7);
  f.check_invariants(a);
}

TEST_CASE("a new database is migrated by four concurrent admins; the application role cannot, and can use it after") {
  std::string database = "wallet_test_migrate_" + test::fresh_asset_code();
  std::transform(database.begin(), database.end(), database.begin(), [](char c) { return std::tolower(c); });
  {
    pqxx::connection admin(test::admin_conninfo());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + database);
  }
  const std::string admin_conninfo = test::admin_conninfo() + " dbname=" + database;
  const std::string app_conninfo = test::conninfo() + " dbname=" + database;

  // Before the schema exists, the application role may not create it.
  Store app_store(app_conninfo);
  auto refused = app_store.migrate();
  CHECK(refused.status().code() == Code::internal);
  CHECK(refused.status().message().find("permission denied") != std::string::npos);
  CHECK(refused.status().message().find("wallet_owner") != std::string::npos);

  std::atomic<int> applied{0}, failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Store store(admin_conninfo);
      auto result = store.migrate();
      if (!result.ok()) {
        ++failures;
        return;
      }
      applied += static_cast<int>(result->size());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(applied == static_cast<int>(migrations().size() + function_files().size()));

  Config config;
  Ledger ledger(app_store, config);
  REQUIRE(ledger.asset_add("NEWDB", 0, "", "tester").ok());
  REQUIRE(ledger.wallet_create("alice", "NEWDB", "tester").ok());
  MovementInput in = test::movement(Operation::deposit, "alice", "NEWDB", "3");
  auto moved = ledger.move(in);
  REQUIRE_MESSAGE(moved.ok(), moved.status().message());
  CHECK(moved->status == "posted");

  pqxx::connection admin(test::admin_conninfo());
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE " + database + " WITH (FORCE)");
}
