// Bulk import against PostgreSQL: wallet_import_batch gives every line the
// outcome one wallet_move() per line would have given, in line order, and
// keeps the ledger's invariants; re-runs replay; dry runs write nothing;
// concurrent imports stay exact.
#include <atomic>
#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include "core/bulk/import.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

ImportRecord record(RecordType type, const std::string& user, const std::string& asset, const std::string& amount,
                    const std::string& to = "", const std::string& key = "") {
  ImportRecord r;
  r.type = type;
  r.user = user;
  r.to = to;
  r.asset = asset;
  r.amount = amount;
  r.key = key;
  return r;
}

// Validated lines numbered 1..n, as the importer would send them.
std::vector<ImportLine> lines_of(const std::vector<ImportRecord>& records, int scale = 2) {
  std::vector<ImportLine> lines;
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto line = import_line_of(records[i], static_cast<int64_t>(i) + 1, scale, false);
    REQUIRE_MESSAGE(line.ok(), line.status().message());
    lines.push_back(*line);
  }
  return lines;
}

std::vector<ImportOutcome> outcomes(const std::vector<ImportLineResult>& results) {
  std::vector<ImportOutcome> out;
  for (const auto& r : results) out.push_back(r.outcome);
  return out;
}

std::vector<ImportLineResult> apply_batch(test::Fixture& f, const std::vector<ImportLine>& lines) {
  auto results = f.store.import_batch(lines, "tester", "test");
  REQUIRE_MESSAGE(results.ok(), results.status().message());
  REQUIRE(results->size() == lines.size());
  return *results;
}

using O = ImportOutcome;

}  // namespace

TEST_CASE("an import batch applies its lines in order, refusing an overdraw like a single movement") {
  test::Fixture f;
  const std::string a = f.asset(2);
  const auto lines = lines_of({
      record(RecordType::wallet, "alice", a, "100"),
      record(RecordType::wallet, "bob", a, ""),
      record(RecordType::transfer, "alice", a, "60", "bob"),
      record(RecordType::transfer, "alice", a, "50", "bob"),  // 40 left: refused
      record(RecordType::transfer, "bob", a, "50", "alice"),  // bob has 60 now
      record(RecordType::withdraw, "alice", a, "90"),         // alice has 90 now
      record(RecordType::deposit, "carol", a, "1"),           // no such wallet
  });
  const auto results = apply_batch(f, lines);
  CHECK(outcomes(results) ==
        std::vector<O>{O::applied, O::applied, O::applied, O::refused, O::applied, O::applied, O::not_found});
  CHECK(results[3].message == "insufficient funds: wallet alice/" + a + " has 40.00 available, 50.00 requested");
  CHECK(results[6].message == "wallet carol/" + a + " not found");
  CHECK(f.balance_minor("alice", a) == 0);
  CHECK(f.balance_minor("bob", a) == 1000);
  CHECK(f.balance_minor("@settlement", a) == 9000);
  // The refusal is recorded under its key, as failed, with no entries.
  REQUIRE(results[3].transaction_id.has_value());
  auto refused = f.store.transaction(*results[3].transaction_id);
  REQUIRE(refused.ok());
  CHECK(refused->movement.status == "failed");
  CHECK(refused->movement.error_code == "insufficient_funds");
  CHECK(refused->entries.empty());
  auto posted = f.store.transaction(*results[2].transaction_id);
  CHECK(posted->entries.size() == 2);
  f.check_invariants(a);
}

TEST_CASE("re-running an import batch replays every line and changes nothing") {
  test::Fixture f;
  const std::string a = f.asset(0);
  const auto lines = lines_of({record(RecordType::wallet, "u1", a, "10"), record(RecordType::wallet, "u2", a, ""),
                               record(RecordType::transfer, "u1", a, "4", "u2"),
                               record(RecordType::transfer, "u1", a, "40", "u2")},
                              0);
  const auto first = apply_batch(f, lines);
  const int64_t entries = f.entry_count(a);
  const int64_t transactions = f.scalar("SELECT count(*) FROM transactions WHERE asset = '" + a + "'");
  const auto second = apply_batch(f, lines);
  CHECK(outcomes(second) == std::vector<O>{O::replayed, O::replayed, O::replayed, O::refused});
  CHECK(second[2].transaction_id == first[2].transaction_id);
  CHECK(second[3].message.find("recorded before under key") != std::string::npos);
  CHECK(f.entry_count(a) == entries);
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = '" + a + "'") == transactions);
  CHECK(f.balance_minor("u1", a) == 6);
  f.check_invariants(a);
}

TEST_CASE("a key repeated inside a batch replays the same request and conflicts with another") {
  test::Fixture f;
  const std::string a = f.asset(0);
  f.wallet("p", a);
  f.wallet("q", a);
  f.deposit("p", a, "10");
  const auto lines = lines_of({record(RecordType::transfer, "p", a, "20", "q", "k-" + a),  // refused
                               record(RecordType::transfer, "p", a, "20", "q", "k-" + a),  // replays the refusal
                               record(RecordType::transfer, "p", a, "3", "q", "k-" + a),   // another request
                               record(RecordType::transfer, "p", a, "3", "q", "j-" + a),
                               record(RecordType::transfer, "p", a, "3", "q", "j-" + a)},
                              0);
  const auto results = apply_batch(f, lines);
  CHECK(outcomes(results) == std::vector<O>{O::refused, O::refused, O::conflict, O::applied, O::replayed});
  CHECK(results[1].transaction_id == results[0].transaction_id);
  CHECK(results[2].message.find("already used for a different request (line 1)") != std::string::npos);
  CHECK(results[4].transaction_id == results[3].transaction_id);
  CHECK(f.balance_minor("q", a) == 3);
  f.check_invariants(a);
}

TEST_CASE("import and single movements share keys: replay with the same request, conflict with another") {
  test::Fixture f;
  const std::string a = f.asset(2);
  f.wallet("m", a);
  auto single = f.move(Operation::deposit, "m", a, "5", "shared-" + a);
  REQUIRE(single.ok());
  const auto results = apply_batch(f, lines_of({record(RecordType::deposit, "m", a, "5.00", "", "shared-" + a),
                                          record(RecordType::deposit, "m", a, "6", "", "shared-" + a)}));
  CHECK(outcomes(results) == std::vector<O>{O::replayed, O::conflict});
  CHECK(results[0].transaction_id == single->transaction_id);
  // And the other way round: a CLI movement replays an imported line.
  const auto imported = apply_batch(f, lines_of({record(RecordType::deposit, "m", a, "7", "", "imp-" + a)}));
  auto replay = f.move(Operation::deposit, "m", a, "7", "imp-" + a);
  REQUIRE(replay.ok());
  CHECK(replay->replayed);
  CHECK(replay->transaction_id == *imported[0].transaction_id);
  CHECK(f.balance_minor("m", a) == 1200);
  f.check_invariants(a);
}

TEST_CASE("a wallet created at a later line of a batch does not exist for the lines before it") {
  test::Fixture f;
  const std::string a = f.asset(0);
  f.wallet("early", a);
  f.deposit("early", a, "10");
  const auto results = apply_batch(f, lines_of({record(RecordType::transfer, "early", a, "1", "late"),
                                          record(RecordType::wallet, "late", a, ""),
                                          record(RecordType::transfer, "early", a, "2", "late")},
                                         0));
  CHECK(outcomes(results) == std::vector<O>{O::not_found, O::applied, O::applied});
  CHECK(f.balance_minor("late", a) == 2);
  f.check_invariants(a);
}

TEST_CASE("a dry run sees its earlier batches and writes nothing") {
  test::Fixture f;
  const std::string a = f.asset(0);
  const int64_t audit_rows = f.scalar("SELECT count(*) FROM audit_log");
  REQUIRE(f.store.dry_run_begin().ok());
  const auto first = apply_batch(f, lines_of({record(RecordType::wallet, "dry", a, "10"),
                                        record(RecordType::wallet, "run", a, "")}, 0));
  const auto second = apply_batch(f, lines_of({record(RecordType::transfer, "dry", a, "4", "run")}, 0));
  f.store.dry_run_end();
  CHECK(outcomes(first) == std::vector<O>{O::applied, O::applied});
  CHECK(outcomes(second) == std::vector<O>{O::applied});
  CHECK(f.scalar("SELECT count(*) FROM wallets WHERE asset = '" + a + "' AND NOT is_system") == 0);
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = '" + a + "'") == 0);
  CHECK(f.entry_count(a) == 0);
  CHECK(f.scalar("SELECT count(*) FROM audit_log") == audit_rows);
  // The Store works normally afterwards.
  CHECK(f.store.assets().ok());
}

TEST_CASE("a dry run answers as the real run across batches: replays, refusals and conflicts of its own keys") {
  test::Fixture f;
  const std::string a = f.asset(2);
  f.wallet("rich", a);
  f.deposit("rich", a, "10");
  f.wallet("poor", a);
  // Recorded for real before the dry run: the dry run must replay it.
  REQUIRE(f.move(Operation::transfer, "rich", a, "1", "before-" + a, "poor").ok());
  const auto batch1 = lines_of({record(RecordType::transfer, "rich", a, "1", "poor", "before-" + a),
                                record(RecordType::transfer, "rich", a, "8", "poor", "k1-" + a),
                                record(RecordType::transfer, "rich", a, "2", "poor", "k2-" + a)});
  const auto batch2 = lines_of({record(RecordType::transfer, "rich", a, "8", "poor", "k1-" + a),
                                record(RecordType::transfer, "rich", a, "2", "poor", "k2-" + a),
                                record(RecordType::transfer, "rich", a, "3", "poor", "k2-" + a),
                                record(RecordType::transfer, "poor", a, "9", "rich", "k3-" + a)});
  REQUIRE(f.store.dry_run_begin().ok());
  const auto dry1 = apply_batch(f, batch1);
  const auto dry2 = apply_batch(f, batch2);
  f.store.dry_run_end();
  CHECK(outcomes(dry1) == std::vector<O>{O::replayed, O::applied, O::refused});
  CHECK(outcomes(dry2) == std::vector<O>{O::replayed, O::refused, O::conflict, O::applied});
  CHECK(dry2[1].message.find("insufficient funds") != std::string::npos);
  CHECK(!dry1[1].transaction_id);  // nothing was recorded, so no id
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE asset = '" + a + "'") == 2);  // the deposit and "before"

  // The real run gives the same outcomes.
  const auto real1 = apply_batch(f, batch1);
  const auto real2 = apply_batch(f, batch2);
  CHECK(outcomes(real1) == outcomes(dry1));
  CHECK(outcomes(real2) == outcomes(dry2));
  f.check_invariants(a);
}

TEST_CASE("a dry run holds no lock: a movement on a wallet it has evaluated does not wait for it") {
  test::Fixture f;
  const std::string a = f.asset(2);
  f.wallet("busy", a);
  f.deposit("busy", a, "10");
  f.wallet("other", a);
  REQUIRE(f.store.dry_run_begin().ok());
  const auto dry = apply_batch(f, lines_of({record(RecordType::transfer, "busy", a, "4", "other"),
                                            record(RecordType::deposit, "busy", a, "1")}));
  CHECK(outcomes(dry) == std::vector<O>{O::applied, O::applied});
  // While the dry run's transaction is still open, another session moves
  // money on the same wallets (and on @treasury). Under the old dry run it
  // waited for dry_run_end(); bounded here so a regression fails, not hangs.
  Store other(test::conninfo());
  Config config;
  Ledger ledger(other, config);
  auto moved = std::async(std::launch::async, [&] {
    MovementInput in = test::movement(Operation::transfer, "busy", a, "3", "other");
    in.idempotency_key = test::fresh_key();
    auto transfer = ledger.move(in);
    MovementInput top_up = test::movement(Operation::deposit, "busy", a, "1");
    top_up.idempotency_key = test::fresh_key();
    return transfer.ok() && ledger.move(top_up).ok();
  });
  const bool finished = moved.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  f.store.dry_run_end();  // unblocks the movement if it was waiting, so the test ends either way
  CHECK_MESSAGE(finished, "a movement waited for an open dry run");
  CHECK(moved.get());
  CHECK(f.balance_minor("busy", a) == 800);
  f.check_invariants(a);
}

TEST_CASE("run_import streams a file in small batches with per-line outcomes in line order") {
  test::Fixture f;
  const std::string a = f.asset(2);
  std::istringstream in("type,user,to,asset,amount\n"
                        "wallet,s1,," + a + ",5\n"
                        "wallet,s2,," + a + ",\n"
                        "\n"
                        "transfer,s1,s2," + a + ",3\n"
                        "transfer,s1,s2," + a + ",3.01\n"
                        "transfer,s1,s2,NOPE,1\n"
                        "transfer,s1,s2," + a + ",1.001\n"
                        "transfer,s1,s2," + a + ",\"2\n"
                        "transfer,s2,s1," + a + ",1\n");
  ImportOptions options;
  options.source = "memory.csv";
  options.actor = "tester";
  options.batch_lines = 2;
  std::vector<ImportError> reported;
  ImportCallbacks callbacks;
  callbacks.on_error = [&](const ImportError& e) { reported.push_back(e); };
  ImportSummary summary;
  Status status = run_import(f.store, in, options, callbacks, summary);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(summary.lines == 8);
  CHECK(summary.applied == 4);
  CHECK(summary.refused == 1);
  CHECK(summary.invalid == 3);
  REQUIRE(reported.size() == 4);
  CHECK(reported[0].line == 6);
  CHECK(reported[0].message.find("insufficient funds") == 0);
  CHECK(reported[1].line == 7);
  CHECK(reported[1].message == "asset NOPE not found");
  CHECK(reported[2].line == 8);
  CHECK(reported[3].line == 9);
  CHECK(exit_code_of(summary) == 2);
  CHECK(f.balance_minor("s1", a) == 300);
  CHECK(f.balance_minor("s2", a) == 200);
  f.check_invariants(a);
}

TEST_CASE("two imports of the same file at once apply each line exactly once") {
  test::Fixture f;
  const std::string a = f.asset(0);
  std::string text = "type,user,to,asset,amount,key\n";
  for (int i = 0; i < 20; ++i) text += "wallet,c" + std::to_string(i) + ",," + a + ",1000,\n";
  for (int i = 0; i < 600; ++i) {
    text += "transfer,c" + std::to_string(i % 20) + ",c" + std::to_string((i * 7 + 3) % 20) + "," + a + "," +
            std::to_string(1 + i % 50) + ",t-" + a + "-" + std::to_string(i) + "\n";
  }
  text.erase(text.size() - 1);  // the last line without a newline
  std::atomic<int64_t> applied{0}, replayed{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      Store store(test::conninfo());
      std::istringstream in(text);
      ImportOptions options;
      options.source = "concurrent.csv";
      options.actor = "tester";
      options.batch_lines = 50;
      ImportSummary summary;
      Status status = run_import(store, in, options, {}, summary);
      if (!status.ok()) ++failures;
      applied += summary.applied;
      replayed += summary.replayed;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  const int64_t moved = f.scalar("SELECT count(*) FROM transactions WHERE asset = '" + a + "' AND kind = 'transfer'");
  CHECK(moved == 600);
  CHECK(applied + replayed == 2 * 620);
  CHECK(f.scalar("SELECT coalesce(sum(balance), 0) FROM wallets WHERE asset = '" + a + "' AND NOT is_system") ==
        20'000);
  f.check_invariants(a);
}
