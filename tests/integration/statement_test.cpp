// reconcile statement against the real PostgreSQL: the matching rules of
// wallet_statement_run, recorded runs, re-runs and later files.
#include <filesystem>
#include <fstream>

#include "reconcile/statement_match.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

struct StatementFixture : test::Fixture {
  std::string asset_code = asset(2);
  std::string prefix = test::fresh_key();  // keys unique to this test

  StatementFixture() {
    wallet("alice", asset_code);
    deposit("alice", asset_code, "10000.00");
  }

  Movement withdraw(const std::string& amount, const std::string& key, bool pending = false) {
    MovementInput in = test::movement(Operation::withdraw, "alice", asset_code, amount);
    in.idempotency_key = prefix + key;
    in.pending = pending;
    auto result = ledger.move(in);
    REQUIRE_MESSAGE(result.ok(), result.status().message());
    return *result;
  }

  // The time of a movement's ledger entries, shifted, as RFC 3339.
  std::string entry_time(int64_t transaction_id, const std::string& shift = "0s") {
    pqxx::nontransaction tx(admin);
    return tx.exec1("SELECT to_char((min(created_at) + " + admin.quote(shift) +
                    "::interval) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
                    "FROM ledger_entries WHERE transaction_id = " + std::to_string(transaction_id))[0]
        .as<std::string>();
  }

  // Writes a JSON Lines statement; each line {date, amount, reference}.
  std::string file(const std::string& name, const std::vector<std::array<std::string, 3>>& lines) {
    const auto path = std::filesystem::temp_directory_path() / (prefix + "-" + name + ".jsonl");
    std::ofstream out(path);
    for (const auto& [date, amount, reference] : lines) {
      out << nlohmann::json{{"date", date}, {"amount", amount}, {"reference", reference}}.dump() << "\n";
    }
    return path.string();
  }

  Result<StatementReport> run(const std::string& path, bool dry_run = false) {
    StatementRunRequest request;
    request.file = path;
    request.account = "@settlement";
    request.asset = asset_code;
    request.dry_run = dry_run;
    request.actor = "tester";
    return run_statement(verifier, config, request);  // statement runs are the verifier's
  }

  int64_t count(const std::string& query) { return scalar(query); }
};

bool has_group(const StatementReport& r, std::vector<int64_t> transactions, std::vector<int64_t> lines,
               const std::string& rule) {
  for (const auto& m : r.matched) {
    if (m.transactions == transactions && m.lines == lines && m.rule == rule) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("statement: references, a batch payout, a duplicate line, a voided movement, an unpaid withdrawal") {
  StatementFixture f;
  const Movement paid = f.withdraw("10.00", "paid");
  const Movement wrong_amount = f.withdraw("20.00", "wrong-amount");
  const Movement batch_a = f.withdraw("5.00", "batch-a");
  const Movement batch_b = f.withdraw("7.00", "batch-b");
  const Movement unpaid = f.withdraw("3.00", "unpaid");
  const Movement held = f.withdraw("9.00", "voided", true);
  REQUIRE(f.ledger.void_transaction(std::to_string(held.transaction_id), "cancelled", "tester").ok());
  const std::string day = f.entry_time(paid.transaction_id).substr(0, 10);
  const std::string path = f.file("day", {{day, "-10.00", f.prefix + "paid"},
                                          {day, "-10.00", f.prefix + "paid"},   // the provider listed it twice
                                          {day, "-12.00", "BATCH-77"},          // batch_a + batch_b
                                          {day, "-9.00", f.prefix + "voided"},
                                          {day, "-25.00", f.prefix + "wrong-amount"}});
  auto report = f.run(path);
  REQUIRE_MESSAGE(report.ok(), report.status().message());
  CHECK(exit_code_of(*report) == kExitUnmatched);
  INFO(to_json(*report).dump());
  CHECK(report->matched.size() == 2);
  CHECK(has_group(*report, {paid.transaction_id}, {1}, "reference"));
  CHECK(has_group(*report, {batch_a.transaction_id, batch_b.transaction_id}, {3}, "amount_date_batch"));
  REQUIRE(report->unmatched_lines.size() == 1);
  CHECK(report->unmatched_lines[0].line == 2);
  CHECK(report->unmatched_lines[0].reason ==
        "transaction " + std::to_string(paid.transaction_id) + " is already matched to another line");
  REQUIRE(report->mismatched.size() == 2);
  CHECK(report->mismatched[0].line == 4);
  CHECK(report->mismatched[0].transaction_id == held.transaction_id);
  CHECK(report->mismatched[0].field == "status");
  CHECK(report->mismatched[0].ledger == "voided");
  CHECK(report->mismatched[1].line == 5);
  CHECK(report->mismatched[1].field == "amount");
  CHECK(report->mismatched[1].ledger == "-20.00");
  CHECK(report->mismatched[1].statement == "-25.00");
  // The unpaid withdrawal is unmatched; the mismatched one is listed once, as mismatched.
  CHECK(report->unmatched_transactions == std::vector<int64_t>{unpaid.transaction_id});
  CHECK(wrong_amount.transaction_id != 0);

  // The same file again: not imported twice, earlier matches stay.
  const int64_t lines_before = f.count("SELECT count(*) FROM statement_lines");
  auto again = f.run(path);
  REQUIRE(again.ok());
  CHECK_FALSE(again->file_new);
  CHECK(again->file_id == report->file_id);
  CHECK(f.count("SELECT count(*) FROM statement_lines") == lines_before);
  CHECK(again->matched.size() == 2);
  CHECK(again->matched[0].run_id == *report->run_id);
  CHECK(again->unmatched_lines.size() == 1);
  CHECK(f.count("SELECT count(*) FROM statement_matched_transactions WHERE account = '@settlement' AND "
                "transaction_id = " + std::to_string(paid.transaction_id)) == 1);

  // --run shows the first run as it was.
  auto shown = statement_run_report(f.store, *report->run_id);
  REQUIRE(shown.ok());
  CHECK(to_json(*shown) == to_json(*report));
  CHECK(statement_run_report(f.store, 999'999'999).status().code() == Code::not_found);
}

TEST_CASE("statement: amount-and-date matches at the edges of the date window") {
  StatementFixture f;
  const Movement early = f.withdraw("11.00", "early");
  const Movement late = f.withdraw("13.00", "late");
  const Movement before = f.withdraw("17.00", "before");
  const Movement too_early = f.withdraw("19.00", "too-early");
  // No references: only amount and date. The window is 2 days on each side.
  const std::string path = f.file("edges", {{f.entry_time(early.transaction_id, "2 days"), "-11.00", ""},
                                            {f.entry_time(late.transaction_id, "2 days 1 second"), "-13.00", ""},
                                            {f.entry_time(before.transaction_id, "-2 days"), "-17.00", ""},
                                            {f.entry_time(too_early.transaction_id, "-2 days -1 second"), "-19.00", ""}});
  auto report = f.run(path);
  REQUIRE_MESSAGE(report.ok(), report.status().message());
  CHECK(has_group(*report, {early.transaction_id}, {1}, "amount_date"));
  CHECK(has_group(*report, {before.transaction_id}, {3}, "amount_date"));
  CHECK(report->matched.size() == 2);
  REQUIRE(report->unmatched_lines.size() == 2);
  CHECK(report->unmatched_lines[0].line == 2);
  CHECK(report->unmatched_lines[1].line == 4);
  CHECK(report->unmatched_transactions == std::vector<int64_t>{late.transaction_id, too_early.transaction_id});
}

TEST_CASE("statement: many lines for one movement, by reference and by day") {
  StatementFixture f;
  const Movement split = f.withdraw("30.00", "split");
  const Movement paid_in_parts = f.withdraw("50.00", "parts");
  const std::string day = f.entry_time(split.transaction_id).substr(0, 10);
  const std::string path = f.file("split", {{day, "-10.00", f.prefix + "split"},
                                            {day, "-20.00", f.prefix + "split"},
                                            {day, "-20.00", "P-1"},
                                            {day, "-30.00", "P-2"}});
  auto report = f.run(path);
  REQUIRE_MESSAGE(report.ok(), report.status().message());
  CHECK(exit_code_of(*report) == 0);
  CHECK(has_group(*report, {split.transaction_id}, {1, 2}, "reference_split"));
  CHECK(has_group(*report, {paid_in_parts.transaction_id}, {3, 4}, "amount_date_split"));
}

TEST_CASE("statement: a later file completes an earlier one; a dry run records nothing") {
  StatementFixture f;
  const Movement first = f.withdraw("10.00", "first");
  const std::string day = f.entry_time(first.transaction_id).substr(0, 10);
  const std::string path1 = f.file("one", {{day, "-10.00", f.prefix + "first"}, {day, "-4.00", f.prefix + "later"}});
  auto one = f.run(path1);
  REQUIRE_MESSAGE(one.ok(), one.status().message());
  CHECK(one->unmatched_lines.size() == 1);
  // The movement behind line 2 is made after the first run.
  const Movement later = f.withdraw("4.00", "later");
  const Movement second = f.withdraw("6.00", "second");
  const std::string path2 = f.file("two", {{day, "-6.00", f.prefix + "second"}});

  const int64_t runs_before = f.count("SELECT count(*) FROM statement_runs");
  auto dry = f.run(path2, true);
  REQUIRE(dry.ok());
  CHECK(dry->dry_run);
  CHECK_FALSE(dry->run_id.has_value());
  CHECK(dry->matched.size() == 2);
  CHECK(f.count("SELECT count(*) FROM statement_runs") == runs_before);
  CHECK(f.count("SELECT count(*) FROM statement_lines WHERE match_id IS NULL AND file_id = " +
                std::to_string(one->file_id)) == 1);

  auto two = f.run(path2);
  REQUIRE(two.ok());
  CHECK(exit_code_of(*two) == 0);
  CHECK(has_group(*two, {second.transaction_id}, {1}, "reference"));
  bool completed = false;
  for (const auto& m : two->matched) {
    if (m.file_id == one->file_id && m.lines == std::vector<int64_t>{2} &&
        m.transactions == std::vector<int64_t>{later.transaction_id}) {
      completed = true;
    }
  }
  CHECK(completed);
  CHECK(f.count("SELECT count(*) FROM statement_lines WHERE match_id IS NULL AND file_id = " +
                std::to_string(one->file_id)) == 0);
  // The first movement stays matched to the first file's line.
  CHECK(f.count("SELECT count(*) FROM statement_matched_transactions WHERE transaction_id = " +
                std::to_string(first.transaction_id) + " AND run_id = " + std::to_string(*one->run_id)) == 1);
}

TEST_CASE("statement: a bad file is refused naming its line, and nothing is recorded") {
  StatementFixture f;
  f.withdraw("10.00", "x");
  const auto path = std::filesystem::temp_directory_path() / (f.prefix + "-bad.csv");
  std::ofstream(path) << "date,amount,reference\n2026-11-02,-10.00,a\n2026-11-02,-1.001,b\n";
  const int64_t files_before = f.count("SELECT count(*) FROM statement_files");
  const int64_t runs_before = f.count("SELECT count(*) FROM statement_runs");
  auto report = f.run(path.string());
  CHECK(report.status().code() == Code::invalid);
  CHECK(report.status().message() == path.string() + ":3: invalid amount \"-1.001\": at most 2 decimals for this asset");
  CHECK(f.count("SELECT count(*) FROM statement_files") == files_before);
  CHECK(f.count("SELECT count(*) FROM statement_runs") == runs_before);

  std::ofstream(path) << "date,amount,reference\n2026-11-02,-10.00,a\n";
  StatementRunRequest request;
  request.file = path.string();
  request.account = "@nobody";
  request.asset = f.asset_code;
  CHECK(run_statement(f.verifier, f.config, request).status().code() == Code::not_found);
  request.account = "@settlement";
  request.profile = "missing";
  CHECK(run_statement(f.verifier, f.config, request).status().message().rfind("unknown statement profile", 0) == 0);
}

TEST_CASE("statement: the application role cannot write the statement tables directly") {
  test::Fixture f;
  pqxx::connection app(test::conninfo());
  pqxx::nontransaction tx(app);
  CHECK_THROWS_AS(tx.exec("INSERT INTO statement_runs(file_id, file_new, actor, since, until, amount_tolerance, "
                          "date_window) VALUES (1, true, 'x', now(), now(), 0, '0')"),
                  pqxx::insufficient_privilege);
  CHECK_THROWS_AS(tx.exec("UPDATE statement_lines SET match_id = NULL"), pqxx::insufficient_privilege);
}
