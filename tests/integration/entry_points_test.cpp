// The SECURITY DEFINER entry points trust nothing (issue 12): called as the
// application role with hostile arguments -- the findings of the review,
// each reproduced, and random calls in the spirit of tests/fuzz -- they
// refuse what breaks a rule, and afterwards the ledger's invariants hold:
// reconcile --full clean, no user wallet below zero, every posted
// transaction on its kind's route (so money enters only as a deposit from
// @treasury), no system account but the three of each asset.
#include <map>
#include <optional>
#include <random>
#include <set>

#include "reconcile/reconcile.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

// The SQLSTATE `statement` fails with in a transaction of its own on `c`
// ("" when it succeeds and commits). libpqxx 6 throws some classes without
// their SQLSTATE; those get theirs back.
std::string attempt(pqxx::connection& c, const std::string& statement) {
  try {
    pqxx::work tx(c);
    tx.exec(statement);
    tx.commit();
    return "";
  } catch (const pqxx::insufficient_privilege&) {
    return "42501";
  } catch (const pqxx::undefined_function&) {
    return "42883";
  } catch (const pqxx::sql_error& error) {
    return error.sqlstate();
  }
}

// A connection as the application role (scripts/test: a login that is only
// a member of wallet_app), checked to be one.
struct AppRole {
  pqxx::connection connection{test::conninfo()};
  AppRole() {
    pqxx::nontransaction tx(connection);
    const auto row = tx.exec1("SELECT r.rolsuper, pg_has_role(current_user, 'wallet_owner', 'USAGE') "
                              "FROM pg_roles r WHERE r.rolname = current_user");
    REQUIRE_MESSAGE(!row[0].as<bool>(), "WALLETCTL_DATABASE must name a login that is only a member of wallet_app");
    REQUIRE(!row[1].as<bool>());
  }
};

// SQL literals of typed arguments (NULL when empty).
std::string text(pqxx::connection& c, const std::optional<std::string>& v) {
  return v ? c.quote(*v) + "::text" : "NULL::text";
}
std::string number(const std::optional<int64_t>& v) { return v ? std::to_string(*v) + "::bigint" : "NULL::bigint"; }
std::string interval(const std::optional<std::string>& v) { return v ? "'" + *v + "'::interval" : "NULL::interval"; }
std::string boolean(const std::optional<bool>& v) { return v ? (*v ? "true" : "false") : "NULL::boolean"; }

// wallet_move as the programs call it, every argument given.
std::string move_sql(pqxx::connection& c, const std::optional<std::string>& key, const std::optional<std::string>& kind,
                     const std::optional<std::string>& from, const std::optional<std::string>& to,
                     const std::string& asset, const std::optional<int64_t>& amount, const std::optional<bool>& pending,
                     const std::optional<std::string>& timeout, const std::optional<bool>& settle = false,
                     const std::optional<std::string>& lease = std::nullopt,
                     const std::optional<std::string>& actor = std::string("attacker")) {
  return "SELECT * FROM wallet_move(" + text(c, key) + ", 'fp', " + text(c, kind) + ", " + text(c, from) + ", " +
         text(c, to) + ", " + c.quote(asset) + ", " + number(amount) + ", '', " + boolean(pending) + ", " +
         interval(timeout) + ", " + text(c, actor) + ", '{}'::jsonb, " + boolean(settle) + ", " + interval(lease) + ")";
}

// The invariants the entry points keep, checked as the superuser.
void check_ledger_invariants(test::Fixture& f, const std::string& asset) {
  f.check_invariants(asset);
  const std::string a = f.admin.quote(asset);
  // Every posted transaction moved along its kind's route; a reversal
  // along its original's, backwards, for at most what the original moved.
  CHECK(f.scalar("SELECT count(*) FROM transactions t JOIN wallets d ON d.id = t.debit_wallet_id "
                 "JOIN wallets c ON c.id = t.credit_wallet_id WHERE t.asset = " + a +
                 " AND t.kind <> 'reversal' AND wallet_route_error(t.kind, d.user_id, c.user_id) IS NOT NULL") == 0);
  // (A system account's side may be another shard of the same account.)
  CHECK(f.scalar("SELECT count(*) FROM transactions r LEFT JOIN transactions o ON o.id = r.reverses_id "
                 "LEFT JOIN wallets rd ON rd.id = r.debit_wallet_id LEFT JOIN wallets rc ON rc.id = r.credit_wallet_id "
                 "LEFT JOIN wallets od ON od.id = o.debit_wallet_id LEFT JOIN wallets oc ON oc.id = o.credit_wallet_id "
                 "WHERE r.asset = " + a + " AND r.kind = 'reversal' AND (o.id IS NULL OR o.status <> 'posted' "
                 "OR rd.user_id IS DISTINCT FROM oc.user_id OR rc.user_id IS DISTINCT FROM od.user_id "
                 "OR r.amount <> o.posted_amount)") == 0);
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = " + a +
                 " AND (reverses_id IS NOT NULL) <> (kind = 'reversal')") == 0);
  // Only @treasury goes below zero.
  CHECK(f.scalar("SELECT count(*) FROM (SELECT user_id FROM wallets WHERE asset = " + a +
                 " AND user_id <> '@treasury' GROUP BY user_id HAVING sum(balance) < 0) x") == 0);
  // No system account but the three, in any asset.
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE user_id LIKE '@%' "
                 "AND user_id NOT IN ('@treasury', '@revenue', '@settlement')") == 0);
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE asset = " + a + " AND is_system") == 3 * 8);
  // Every hold ends: by expiry, or (a settlement) by its next attempt.
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = " + a + " AND status = 'pending' AND "
                 "CASE WHEN settle THEN next_attempt_at IS NULL ELSE expires_at IS NULL OR expires_at <= created_at END") ==
        0);
  // Attempts are counted on settlements only.
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = " + a + " AND attempts > 0 AND NOT settle") == 0);
  auto report = reconcile(f.store, true, Milliseconds{3'600'000}, {});
  REQUIRE_MESSAGE(report.ok(), report.status().message());
  CHECK(report->drift.empty());
}

struct Funded {
  std::string asset;
  int64_t deposit = 0;  // alice's 1-unit deposit
};

Funded funded_ledger(test::Fixture& f) {
  Funded l{f.asset(0)};
  for (const char* user : {"alice", "bob", "carol"}) f.wallet(user, l.asset);
  f.deposit("alice", l.asset, "1000");
  f.deposit("bob", l.asset, "1000");
  l.deposit = f.deposit("alice", l.asset, "1").transaction_id;
  return l;
}

}  // namespace

TEST_CASE("a reversal cannot be forged through wallet_move: p_reverses is gone, wallet_move_apply is not granted") {
  test::Fixture f;
  auto l = funded_ledger(f);
  AppRole role;
  pqxx::connection& app = role.connection;
  const std::string id = std::to_string(l.deposit);
  // The review's call: a 1-unit movement naming the deposit as reversed.
  CHECK(attempt(app, "SELECT * FROM wallet_move('forge-" + test::fresh_key() + "', 'fp', 'deposit', '@treasury', "
                     "'alice', " + app.quote(l.asset) + ", 1, '', false, NULL, 'attacker', '{}', false, " + id +
                     ", NULL)") == "42883");
  CHECK(attempt(app, "SELECT * FROM wallet_move(p_key => 'forge', p_fingerprint => 'fp', p_kind => 'deposit', "
                     "p_debit_user => '@treasury', p_credit_user => 'alice', p_asset => " + app.quote(l.asset) +
                     ", p_amount => 1, p_memo => '', p_pending => false, p_timeout => NULL, p_actor => 'x', "
                     "p_arguments => '{}', p_reverses => 424242)") == "42883");
  CHECK(attempt(app, "SELECT * FROM wallet_move_apply('forge', 'fp', 'transfer', 'bob', 'alice', " +
                     app.quote(l.asset) + ", 1, '', false, NULL, 'x', '{}', false, " + id + ", NULL)") == "42501");
  // Kind 'reversal' is refused from wallet_move, whatever the route.
  CHECK(attempt(app, move_sql(app, test::fresh_key(), "reversal", "bob", "alice", l.asset, 1, false, std::nullopt)) ==
        "WL400");
  // Even the owner cannot record a reversal of a transaction that does not exist.
  {
    pqxx::work tx(f.admin);
    tx.exec("SET LOCAL ROLE wallet_owner");
    CHECK_THROWS_WITH_AS(tx.exec("SELECT * FROM wallet_move_apply('orphan-" + test::fresh_key() +
                                 "', 'fp', 'reversal', 'alice', '@treasury', " + tx.quote(l.asset) +
                                 ", 1, '', false, NULL, 'owner', '{}', false, 424242, NULL)"),
                         doctest::Contains("does not exist"), pqxx::check_violation);
  }
  // The real reversal of the deposit still works, once.
  auto reversed = f.ledger.reverse(id, test::fresh_key(), "tester");
  REQUIRE_MESSAGE(reversed.ok(), reversed.status().message());
  CHECK(reversed->status == "posted");
  CHECK(f.ledger.reverse(id, test::fresh_key(), "tester").status().code() == Code::conflict);
  check_ledger_invariants(f, l.asset);
}

TEST_CASE("each kind moves only along its route: a purchase cannot drive @revenue negative") {
  test::Fixture f;
  auto l = funded_ledger(f);
  AppRole role;
  pqxx::connection& app = role.connection;
  const int64_t revenue_before = f.balance_minor("@revenue", l.asset);
  struct Case {
    const char* kind;
    const char* from;
    const char* to;
  };
  for (const Case& c : std::vector<Case>{{"purchase", "@revenue", "alice"},
                                         {"purchase", "alice", "@settlement"},
                                         {"withdraw", "@settlement", "alice"},
                                         {"withdraw", "alice", "@revenue"},
                                         {"deposit", "@revenue", "alice"},
                                         {"topup", "@settlement", "bob"},
                                         {"bonus", "@treasury", "@revenue"},
                                         {"deposit", "alice", "bob"},
                                         {"transfer", "@treasury", "alice"},
                                         {"transfer", "alice", "@revenue"},
                                         {"transfer", "alice", "alice"},
                                         {"gift", "@treasury", "alice"},
                                         {"", "@treasury", "alice"}}) {
    CAPTURE(c.kind);
    CAPTURE(c.from);
    CAPTURE(c.to);
    CHECK(attempt(app, move_sql(app, test::fresh_key(), std::string(c.kind), std::string(c.from), std::string(c.to),
                                l.asset, 5, false, std::nullopt)) == "WL400");
    CHECK(attempt(app, move_sql(app, test::fresh_key(), std::string(c.kind), std::string(c.from), std::string(c.to),
                                l.asset, 5, true, "1 hour")) == "WL400");
  }
  CHECK(attempt(app, move_sql(app, test::fresh_key(), std::nullopt, "@treasury", "alice", l.asset, 5, false,
                              std::nullopt)) == "WL400");
  CHECK(f.balance_minor("@revenue", l.asset) == revenue_before);
  // The routes themselves still work.
  CHECK(attempt(app, move_sql(app, test::fresh_key(), "purchase", "alice", "@revenue", l.asset, 5, false,
                              std::nullopt)) == "");
  CHECK(attempt(app, move_sql(app, test::fresh_key(), "topup", "@treasury", "carol", l.asset, 5, false,
                              std::nullopt)) == "");
  check_ledger_invariants(f, l.asset);
}

TEST_CASE("holds need a positive timeout and settlements a positive lease: NULL, zero and negative are refused") {
  test::Fixture f;
  auto l = funded_ledger(f);
  AppRole role;
  pqxx::connection& app = role.connection;
  for (const std::optional<std::string>& bad : {std::optional<std::string>(), std::optional<std::string>("0"),
                                                std::optional<std::string>("-1 second")}) {
    CAPTURE(bad.value_or("NULL"));
    CHECK(attempt(app, move_sql(app, test::fresh_key(), "transfer", "alice", "bob", l.asset, 5, true, bad)) == "WL400");
    CHECK(attempt(app, move_sql(app, test::fresh_key(), "withdraw", "alice", "@settlement", l.asset, 5, true,
                                std::nullopt, true, bad)) == "WL400");
  }
  // A settlement is a pending withdrawal, nothing else.
  CHECK(attempt(app, move_sql(app, test::fresh_key(), "withdraw", "alice", "@settlement", l.asset, 5, false,
                              std::nullopt, true, "1 minute")) == "WL400");
  CHECK(attempt(app, move_sql(app, test::fresh_key(), "transfer", "alice", "bob", l.asset, 5, true, "1 hour", true,
                              "1 minute")) == "WL400");
  CHECK(attempt(app, move_sql(app, test::fresh_key(), "transfer", "alice", "bob", l.asset, 5, std::nullopt,
                              std::nullopt)) == "WL400");
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = " + f.admin.quote(l.asset) +
                 " AND status = 'pending'") == 0);
  CHECK(f.scalar("SELECT sum(reserved) FROM wallets WHERE asset = " + f.admin.quote(l.asset)) == 0);
  // A deferred settlement needs a positive delay too.
  CHECK(attempt(app, move_sql(app, "settle-" + l.asset, "withdraw", "alice", "@settlement", l.asset, 5, true,
                              std::nullopt, true, "1 minute")) == "");
  const std::string settlement =
      std::to_string(f.scalar("SELECT id FROM transactions WHERE idempotency_key = 'settle-" + l.asset + "'"));
  for (const char* delay : {"NULL::interval", "'0'::interval", "'-5 minutes'::interval"}) {
    CAPTURE(delay);
    CHECK(attempt(app, "SELECT * FROM wallet_settlement_deferred(" + settlement + ", 'x', " + delay + ", 'a')") ==
          "WL400");
  }
  CHECK(attempt(app, "SELECT * FROM wallet_settlement_deferred(" + settlement + ", 'x', '1 minute', 'a')") == "");
  check_ledger_invariants(f, l.asset);
}

TEST_CASE("import creates no system account and moves no money from one: @mint is refused") {
  test::Fixture f;
  auto l = funded_ledger(f);
  AppRole role;
  pqxx::connection& app = role.connection;
  const std::string a = app.quote(l.asset);
  // The review's batch: a wallet line for @mint, then money from it.
  pqxx::work tx(app);
  auto rows = tx.exec("SELECT ordinal, outcome, message FROM wallet_import_batch(ARRAY[1, 2, 3]::bigint[], "
                      "ARRAY[true, false, false], ARRAY['mint-" + l.asset + "', 'mint2-" + l.asset + "', 'mint3-" +
                      l.asset + "'], ARRAY['f1', 'f2', 'f3'], ARRAY['deposit', 'deposit', 'purchase'], "
                      "ARRAY['@treasury', '@mint', '@revenue'], ARRAY['@mint', 'alice', 'bob'], ARRAY[" + a + ", " +
                      a + ", " + a + "], ARRAY[1000000, 500, 7]::bigint[], ARRAY['', '', ''], 'attacker', 'evil.csv')");
  tx.commit();
  REQUIRE(rows.size() == 3);
  for (const auto& row : rows) {
    CAPTURE(row[2].c_str());
    CHECK(std::string(row[1].c_str()) == "invalid");
  }
  CHECK(std::string(rows[0][2].c_str()).find("reserved for system accounts") != std::string::npos);
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE user_id = '@mint'") == 0);
  // Arrays of different lengths are refused as a whole.
  CHECK(attempt(app, "SELECT * FROM wallet_import_batch(ARRAY[1, 2]::bigint[], ARRAY[false], ARRAY['k1', 'k2'], "
                     "ARRAY['f', 'f'], ARRAY['deposit', 'deposit'], ARRAY['@treasury', '@treasury'], "
                     "ARRAY['alice', 'bob'], ARRAY[" + a + ", " + a + "], ARRAY[1, 1]::bigint[], ARRAY['', ''], "
                     "'attacker', 'x')") == "WL400");
  // Nor can anyone else make one: wallet_create refuses, and so does the
  // table itself, for its owner too.
  CHECK(attempt(app, "SELECT * FROM wallet_create('@mint', " + a + ", 'attacker')") == "WL400");
  {
    pqxx::work owner(f.admin);
    owner.exec("SET LOCAL ROLE wallet_owner");
    CHECK_THROWS_AS(owner.exec("INSERT INTO wallets(user_id, asset) VALUES ('@mint', " + a + ")"),
                    pqxx::check_violation);
  }
  check_ledger_invariants(f, l.asset);
}

TEST_CASE("settlement attempts are counted only on pending settlements") {
  test::Fixture f;
  auto l = funded_ledger(f);
  AppRole role;
  pqxx::connection& app = role.connection;
  const std::string posted = std::to_string(l.deposit);
  CHECK(attempt(app, "SELECT wallet_settlement_attempted(" + posted + ")") == "WL409");
  CHECK(attempt(app, "SELECT * FROM wallet_settlement_deferred(" + posted + ", 'x', '1 minute', 'a')") == "WL409");
  CHECK(attempt(app, move_sql(app, "hold-" + l.asset, "transfer", "alice", "bob", l.asset, 5, true, "1 hour")) == "");
  const std::string hold =
      std::to_string(f.scalar("SELECT id FROM transactions WHERE idempotency_key = 'hold-" + l.asset + "'"));
  CHECK(attempt(app, "SELECT wallet_settlement_attempted(" + hold + ")") == "WL409");  // a hold, not a settlement
  CHECK(attempt(app, "SELECT wallet_settlement_attempted(424242424242)") == "WL404");
  CHECK(f.scalar("SELECT coalesce(sum(attempts), 0) FROM transactions WHERE asset = " + f.admin.quote(l.asset)) == 0);
  // The settlement command's reference, likewise only on a pending settlement, and checked.
  CHECK(attempt(app, "SELECT wallet_settlement_reference(" + posted + ", 'PAY-1')") == "WL409");
  CHECK(attempt(app, "SELECT wallet_settlement_reference(" + hold + ", 'PAY-1')") == "WL409");
  CHECK(attempt(app, "SELECT wallet_settlement_reference(424242424242, 'PAY-1')") == "WL404");
  CHECK(attempt(app, "SELECT wallet_settlement_reference(" + hold + ", E'PAY\\n1')") == "WL400");
  CHECK(attempt(app, "SELECT wallet_settlement_reference(" + hold + ", repeat('x', 141))") == "WL400");
  CHECK(f.scalar("SELECT count(reference) FROM transactions WHERE asset = " + f.admin.quote(l.asset)) == 0);
  check_ledger_invariants(f, l.asset);
}

TEST_CASE("a transaction's status follows the transition table and its fixed fields stay, even for the owner") {
  test::Fixture f;
  auto l = funded_ledger(f);
  auto failed = f.move(Operation::withdraw, "carol", l.asset, "5", test::fresh_key());
  REQUIRE(failed.recorded());
  REQUIRE(failed->status == "failed");
  MovementInput hold_in = test::movement(Operation::transfer, "alice", l.asset, "3", "bob");
  hold_in.pending = true;
  auto hold = f.ledger.move(hold_in);
  REQUIRE(hold.ok());
  auto voided = f.ledger.move(hold_in);
  REQUIRE(voided.ok());
  REQUIRE(f.ledger.void_transaction(std::to_string(voided->transaction_id), "", "tester").ok());
  const std::string posted = std::to_string(l.deposit), pending = std::to_string(hold->transaction_id);
  const std::string failed_id = std::to_string(failed->transaction_id);
  const std::string voided_id = std::to_string(voided->transaction_id);
  for (const std::string& statement : std::vector<std::string>{
           "UPDATE transactions SET status = 'posted', posted_amount = amount, error_code = NULL, last_error = NULL "
           "WHERE id = " + failed_id,
           "UPDATE transactions SET status = 'pending' WHERE id = " + voided_id,
           "UPDATE transactions SET status = 'posted', posted_amount = amount WHERE id = " + voided_id,
           "UPDATE transactions SET status = 'voided', posted_amount = NULL WHERE id = " + posted,
           "UPDATE transactions SET posted_amount = 1 WHERE id = " + posted,
           "UPDATE transactions SET memo = 'rewritten' WHERE id = " + posted,
           "UPDATE transactions SET actor = 'someone else' WHERE id = " + posted,
           "UPDATE transactions SET created_at = created_at - interval '1 year' WHERE id = " + posted,
           "UPDATE transactions SET attempts = attempts + 1 WHERE id = " + posted,
           "UPDATE transactions SET memo = 'rewritten' WHERE id = " + pending,
           "UPDATE transactions SET actor = 'someone else' WHERE id = " + pending,
           "UPDATE transactions SET expires_at = NULL WHERE id = " + pending,
           "UPDATE transactions SET created_at = now() WHERE id = " + pending,
           "UPDATE transactions SET posted_amount = 1 WHERE id = " + pending,
           "UPDATE transactions SET settle = true WHERE id = " + pending}) {
    CAPTURE(statement);
    pqxx::work tx(f.admin);
    tx.exec("SET LOCAL ROLE wallet_owner");  // the table's owner, without a superuser's bypass
    CHECK_THROWS_WITH_AS(tx.exec(statement), doctest::Contains("transaction "), pqxx::sql_error);
  }
  // What a pending transaction may do, it still does: attempts up, post.
  {
    pqxx::work tx(f.admin);
    tx.exec("SET LOCAL ROLE wallet_owner");
    CHECK_NOTHROW(tx.exec("UPDATE transactions SET last_error = 'x', next_attempt_at = now() WHERE id = " + pending));
  }
  REQUIRE(f.ledger.post(pending, "", "tester").ok());
  CHECK(f.ledger.transaction(failed_id)->movement.status == "failed");
  check_ledger_invariants(f, l.asset);
}

TEST_CASE("random hostile calls of every entry point keep the ledger's invariants") {
  test::Fixture f;
  auto l = funded_ledger(f);
  AppRole role;
  pqxx::connection& app = role.connection;
  const uint64_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 random(seed);
  auto pick = [&](const auto& pool) { return pool[random() % pool.size()]; };
  using Text = std::optional<std::string>;
  using Number = std::optional<int64_t>;
  const std::vector<Text> users{"alice", "bob", "carol", "dave", "@treasury", "@revenue", "@settlement", "@mint",
                                "@",     "",    std::nullopt, std::string(65, 'u'), "al ice"};
  const std::vector<Text> kinds{"deposit", "topup", "bonus", "withdraw", "purchase", "transfer", "reversal", "gift",
                                "",        std::nullopt};
  const std::vector<Number> amounts{1, 2, 5, 50, 999, 1000, 0, -1, -1000, std::nullopt, INT64_MAX, INT64_MIN,
                                    int64_t{1} << 62};
  const std::vector<Text> intervals{"1 hour", "1 millisecond", "1 day", "0", "-1 second", "-100 years", std::nullopt,
                                    "1000000 years"};
  const std::vector<std::optional<bool>> booleans{true, false, std::nullopt};
  const std::vector<Text> actors{"attacker", "", std::nullopt, std::string(65, 'a')};
  std::vector<Text> keys{std::nullopt, "", std::string(129, 'k'), "reused-" + l.asset};
  std::vector<Number> ids{std::nullopt, 0, -1, 424242424242, l.deposit};
  auto refresh_ids = [&] {
    pqxx::nontransaction tx(f.admin);
    for (const auto& row : tx.exec("SELECT id FROM transactions WHERE asset = " + f.admin.quote(l.asset) +
                                   " ORDER BY random() LIMIT 20")) {
      ids.push_back(row[0].as<int64_t>());
    }
  };
  const std::set<std::string> expected_refusals{"WL400", "WL403", "WL404", "WL409", "23514", "22003", "22008"};
  std::map<std::string, int> outcomes;
  for (int i = 0; i < 600; ++i) {
    if (i % 50 == 0) refresh_ids();
    const Text key = random() % 3 == 0 ? pick(keys) : Text("fuzz-" + l.asset + "-" + std::to_string(i));
    std::string sql;
    switch (random() % 12) {
      case 0:
      case 1:
      case 2:
        sql = move_sql(app, key, pick(kinds), pick(users), pick(users), random() % 8 ? l.asset : "NOPE", pick(amounts),
                       pick(booleans), pick(intervals), random() % 4 ? std::optional<bool>(false) : pick(booleans),
                       pick(intervals), pick(actors));
        break;
      case 3:
        sql = "SELECT * FROM wallet_post(" + number(pick(ids)) + ", " + number(random() % 2 ? pick(amounts) : Number()) +
              ", " + text(app, pick(actors)) + ", '{}')";
        break;
      case 4:
        sql = "SELECT * FROM wallet_void(" + number(pick(ids)) + ", 'fuzz', " + text(app, pick(actors)) + ", '{}')";
        break;
      case 5:
        sql = "SELECT * FROM wallet_reverse(" + number(pick(ids)) + ", " + text(app, key) + ", " +
              text(app, pick(actors)) + ", '{}')";
        break;
      case 6:
        sql = random() % 2 ? "SELECT * FROM wallet_settlement_deferred(" + number(pick(ids)) + ", 'fuzz', " +
                                 interval(pick(intervals)) + ", " + text(app, pick(actors)) + ")"
                           : "SELECT wallet_settlement_attempted(" + number(pick(ids)) + ")";
        break;
      case 7: {
        const int n = 1 + static_cast<int>(random() % 4);
        std::string lines, wallet_lines, batch_keys, fps, batch_kinds, debits, credits, assets, batch_amounts, memos;
        for (int j = 0; j < n; ++j) {
          const std::string sep = j ? ", " : "";
          lines += sep + std::to_string(j + 1);
          wallet_lines += sep + boolean(pick(booleans));
          batch_keys += sep + text(app, random() % 3 ? Text("fuzz-batch-" + l.asset + "-" + std::to_string(i) + "-" +
                                                            std::to_string(j))
                                                      : pick(keys));
          fps += sep + "'fp'";
          batch_kinds += sep + text(app, pick(kinds));
          debits += sep + text(app, pick(users));
          credits += sep + text(app, pick(users));
          assets += sep + app.quote(l.asset);
          batch_amounts += sep + number(pick(amounts));
          memos += sep + "''";
        }
        if (random() % 10 == 0) credits += ", 'extra'";  // arrays of different lengths
        sql = "SELECT * FROM wallet_import_batch(ARRAY[" + lines + "]::bigint[], ARRAY[" + wallet_lines +
              "]::boolean[], ARRAY[" + batch_keys + "]::text[], ARRAY[" + fps + "]::text[], ARRAY[" + batch_kinds +
              "]::text[], ARRAY[" + debits + "]::text[], ARRAY[" + credits + "]::text[], ARRAY[" + assets +
              "]::text[], ARRAY[" + batch_amounts + "]::bigint[], ARRAY[" + memos + "]::text[], " +
              text(app, pick(actors)) + ", 'fuzz')";
        break;
      }
      case 8:
        sql = "SELECT * FROM wallet_create(" + text(app, pick(users)) + ", " +
              app.quote(random() % 4 ? l.asset : "NOPE") + ", " + text(app, pick(actors)) + ")";
        break;
      case 9:
        sql = random() % 2 ? "SELECT * FROM wallet_claim_transaction(" + number(pick(ids)) + ")"
                           : "SELECT * FROM wallet_claim_due(" + boolean(pick(booleans)) + ", now() + " +
                                 interval(pick(intervals)) + ")";
        break;
      case 10:
        sql = "SELECT wallet_audit_failure(" + text(app, pick(actors)) + ", 'fuzz', '{}', " +
              text(app, random() % 2 ? Text("posted") : Text("conflict")) + ", 'fuzz')";
        break;
      default:
        // The reconcile checkpoint is the verifier's (wallet_verifier): the
        // application's calls are refused (42501, checked below).
        sql = random() % 2 ? (random() % 2 ? "SELECT wallet_reconcile_save_asset('NOPE" + std::to_string(i) + "', 1)"
                                           : "SELECT wallet_reconcile_save_wallets(" + number(pick(ids)) + ")")
                           : "SELECT wallet_asset_add(" + text(app, random() % 2 ? Text("Z" + l.asset.substr(1)) : Text("bad code")) +
                                 ", " + std::to_string(static_cast<int>(random() % 40) - 10) + ", 'fuzz', " +
                                 text(app, pick(actors)) + ")";
        break;
    }
    CAPTURE(sql);
    const std::string state = attempt(app, sql);
    ++outcomes[state.empty() ? "ok" : state];
    if (sql.rfind("SELECT wallet_reconcile_save", 0) == 0) {
      CHECK_MESSAGE(state == "42501", "the application saved a reconcile checkpoint");
      continue;
    }
    if (!state.empty() && expected_refusals.count(state) == 0 && state != "23503") {
      FAIL_CHECK("unexpected SQLSTATE " << state);
    }
  }
  for (const auto& [state, count] : outcomes) MESSAGE(state << ": " << count);
  CHECK(outcomes["ok"] > 50);  // the random calls do reach the ledger
  check_ledger_invariants(f, l.asset);
  const std::string z = f.admin.quote("Z" + l.asset.substr(1));
  if (f.scalar("SELECT count(*) FROM assets WHERE code = " + z) == 1) check_ledger_invariants(f, "Z" + l.asset.substr(1));
}
