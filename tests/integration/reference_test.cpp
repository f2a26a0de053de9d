// External references on movements (issue 13 part C): given with the
// request, part of what makes two requests the same, shown by show and
// history, found by history's reference filter, and given by a settlement
// command that confirms a withdrawal.
#include <filesystem>
#include <fstream>

#include "core/domain/shapes.hpp"
#include "support.hpp"

using namespace wallet;
using test::fresh_key;

namespace {

MovementOutcome deposit_with_reference(test::Fixture& f, const std::string& asset, const std::string& key,
                                       const std::string& reference, const std::string& amount = "10") {
  MovementInput in;
  in.operation = Operation::deposit;
  in.user = "alice";
  in.asset = asset;
  in.amount = amount;
  in.reference = reference;
  in.idempotency_key = key;
  in.actor = "tester";
  return f.ledger.move(in);
}

// A settlement command that prints `output` and exits 0.
struct PrintingSettlement {
  std::filesystem::path dir;
  Config config;

  explicit PrintingSettlement(const std::string& output) {
    dir = std::filesystem::temp_directory_path() / ("walletctl-reference-" + test::fresh_asset_code());
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "output") << output;
    std::ofstream(dir / "settle.sh") << "#!/bin/sh\ncat >/dev/null\ncat " << (dir / "output").string() << "\nexit 0\n";
    std::filesystem::permissions(dir / "settle.sh", std::filesystem::perms::owner_all);
    config.settlement_command = (dir / "settle.sh").string();
  }
  ~PrintingSettlement() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

TEST_CASE("a movement's reference is stored, shown, and found by history's reference filter") {
  test::Fixture f;
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  const std::string reference = "BANK-" + test::fresh_asset_code();
  auto moved = deposit_with_reference(f, asset, fresh_key(), reference);
  REQUIRE_MESSAGE(moved.ok(), moved.status().message());
  CHECK(moved->reference == reference);
  auto plain = f.deposit("alice", asset, "5");
  CHECK_FALSE(plain.reference.has_value());

  auto detail = f.ledger.transaction(std::to_string(moved->transaction_id));
  REQUIRE(detail.ok());
  CHECK(detail->movement.reference == reference);
  CHECK(to_json(*detail)["reference"] == reference);
  CHECK(f.ledger.transaction(std::to_string(plain.transaction_id))->movement.reference == std::nullopt);

  HistoryQuery q;
  q.user = "alice";
  q.asset = asset;
  auto all = f.ledger.history(q, "");
  REQUIRE(all.ok());
  REQUIRE(all->entries.size() == 2);
  CHECK(all->entries[0].reference == std::nullopt);
  CHECK(all->entries[1].reference == reference);
  q.reference = reference;
  auto found = f.ledger.history(q, "");
  REQUIRE(found.ok());
  REQUIRE(found->entries.size() == 1);
  CHECK(found->entries[0].transaction_id == moved->transaction_id);
  q.reference = "no-such-reference";
  CHECK(f.ledger.history(q, "")->entries.empty());
  // @treasury's side finds it too (the counterparty of the deposit).
  q.user = "@treasury";
  q.reference = reference;
  CHECK(f.ledger.history(q, "")->entries.size() == 1);
  q.reference = std::string("bad\x01reference");
  CHECK(f.ledger.history(q, "").status().code() == Code::invalid);
}

TEST_CASE("the reference is part of the request: a replay needs the same one") {
  test::Fixture f;
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  const std::string key = fresh_key();
  REQUIRE(deposit_with_reference(f, asset, key, "REF-1").ok());
  auto again = deposit_with_reference(f, asset, key, "REF-1");
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->reference == "REF-1");
  CHECK(deposit_with_reference(f, asset, key, "REF-2").status().code() == Code::conflict);
  CHECK(deposit_with_reference(f, asset, key, "").status().code() == Code::conflict);
  CHECK(f.balance_minor("alice", asset) == 1000);

  // Without a reference the fingerprint is what it was before references
  // existed, so keys used by older versions still replay.
  MovementRequest r;
  r.kind = "deposit";
  r.from_user = "@treasury";
  r.to_user = "alice";
  r.asset = "SGD";
  r.amount = 1050;
  CHECK(fingerprint_of(r) == "7:deposit;9:@treasury;5:alice;3:SGD;4:1050;0:;6:posted;");
  r.reference = "X";
  CHECK(fingerprint_of(r) == "7:deposit;9:@treasury;5:alice;3:SGD;4:1050;0:;6:posted;reference:1:X;");
}

TEST_CASE("a bad reference is refused before anything is written, by the ledger and by wallet_move") {
  test::Fixture f;
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  for (const std::string& bad : {std::string("line\nbreak"), std::string(141, 'x'), std::string("\xff\xfe"),
                                 std::string("rtl\u202Eoverride")}) {
    CAPTURE(bad);
    CHECK(deposit_with_reference(f, asset, fresh_key(), bad).status().code() == Code::invalid);
  }
  CHECK(deposit_with_reference(f, asset, fresh_key(), std::string(140, 'x')).ok());
  // The database's own check, for a caller that skips the ledger.
  {
    pqxx::nontransaction tx(f.admin);
    try {
      tx.exec("SELECT * FROM wallet_move('" + fresh_key() + "', 'fp', 'deposit', '@treasury', 'alice', " +
              tx.quote(asset) + ", 1, '', false, NULL, 'tester', '{}', false, NULL, E'a\\nb')");
      FAIL("wallet_move took a reference with a line break");
    } catch (const pqxx::sql_error& e) {
      CHECK(e.sqlstate() == "WL400");
    }
  }
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = " + f.admin.quote(asset)) == 1);
}

TEST_CASE("a settlement command's {\"reference\"} is stored on the withdrawal it confirms") {
  test::Fixture f;
  PrintingSettlement script("settling...\n{\"reference\": \"PAYOUT-77\"}\n");
  Ledger ledger(f.store, script.config);
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  f.deposit("alice", asset, "100");
  MovementInput in;
  in.operation = Operation::withdraw;
  in.user = "alice";
  in.asset = asset;
  in.amount = "30";
  in.actor = "tester";
  in.idempotency_key = fresh_key();
  auto paid = ledger.move(in);
  REQUIRE_MESSAGE(paid.ok(), paid.status().message());
  CHECK(paid->status == "posted");
  CHECK(paid->reference == "PAYOUT-77");
  CHECK(ledger.transaction(std::to_string(paid->transaction_id))->movement.reference == "PAYOUT-77");

  // A withdrawal that came with its own reference keeps it.
  in.idempotency_key = fresh_key();
  in.reference = "OURS-1";
  auto ours = ledger.move(in);
  REQUIRE(ours.ok());
  CHECK(ours->status == "posted");
  CHECK(ours->reference == "OURS-1");
  f.check_invariants(asset);
}

TEST_CASE("a settlement command's malformed reference is ignored; the payout is still confirmed") {
  test::Fixture f;
  PrintingSettlement script("{\"reference\": 12}\n{\"reference\": \"bad\\u0001ref\"}\nnot json\n");
  Ledger ledger(f.store, script.config);
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  f.deposit("alice", asset, "100");
  MovementInput in;
  in.operation = Operation::withdraw;
  in.user = "alice";
  in.asset = asset;
  in.amount = "30";
  in.actor = "tester";
  auto paid = ledger.move(in);
  REQUIRE(paid.ok());
  CHECK(paid->status == "posted");
  CHECK_FALSE(paid->reference.has_value());
}

TEST_CASE("wallet_import_batch stores each line's reference and refuses a bad one") {
  test::Fixture f;
  const std::string asset = f.asset();
  f.wallet("alice", asset);
  pqxx::nontransaction tx(f.admin);
  const std::string a = tx.quote(asset);
  const std::string k1 = fresh_key(), k2 = fresh_key();
  const auto batch = [&](const std::string& references) {
    return "SELECT count(*) FROM wallet_import_batch(ARRAY[1, 2]::bigint[], ARRAY[false, false], ARRAY['" + k1 +
           "', '" + k2 + "'], ARRAY['fp1', 'fp2'], ARRAY['deposit', 'deposit'], ARRAY['@treasury', '@treasury'], "
           "ARRAY['alice', 'alice'], ARRAY[" + a + ", " + a + "], ARRAY[100, 200]::bigint[], ARRAY['', ''], "
           "'tester', 'test', " + references + ")";
  };
  try {
    tx.exec(batch("ARRAY[E'bad\\tref', NULL]"));
    FAIL("a reference with a tab was taken");
  } catch (const pqxx::sql_error& e) {
    CHECK(e.sqlstate() == "WL400");
  }
  try {
    tx.exec(batch("ARRAY['only one']"));
    FAIL("a short references array was taken");
  } catch (const pqxx::sql_error& e) {
    CHECK(e.sqlstate() == "WL400");
  }
  tx.exec(batch("ARRAY['IMP-1', NULL]"));
  CHECK(tx.exec1("SELECT count(*) FROM transactions WHERE idempotency_key = '" + k1 + "' AND reference = 'IMP-1'")[0]
            .as<int>() == 1);
  CHECK(tx.exec1("SELECT count(*) FROM transactions WHERE idempotency_key = '" + k2 + "' AND reference IS NULL")[0]
            .as<int>() == 1);
}
