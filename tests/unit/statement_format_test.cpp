// Statement parsers (reconcile/statement_format, reconcile/camt053) on the
// fixtures of tests/fixtures/statements: two providers' CSV layouts, JSON
// Lines, a bank's camt.053, and broken files.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "reconcile/statement_format.hpp"

using namespace wallet;

namespace {

const std::string kFixtures = std::string(WALLET_FIXTURES_DIR) + "/statements/";

std::map<std::string, StatementProfile> fixture_profiles() {
  Config config;
  std::ifstream in(kFixtures + "profiles.toml");
  std::stringstream text;
  text << in.rdbuf();
  Status s = apply_config_text(text.str(), "profiles.toml", config);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return config.statement_profiles;
}

struct Read {
  Status status;
  std::vector<StatementLine> lines;
};

Read read(const std::string& file, StatementFormat format, const StatementProfile& profile = {}, int scale = 2) {
  Read r;
  r.status = read_statement_file(kFixtures + file, format, profile, scale, [&](const StatementLine& line) {
    r.lines.push_back(line);
    return Status::Ok();
  });
  return r;
}

}  // namespace

TEST_CASE("statement amounts: signs, separators, decimals") {
  StatementProfile plain;
  CHECK(*parse_statement_amount("-10.50", 2, plain) == -1050);
  CHECK(*parse_statement_amount("+7", 2, plain) == 700);
  CHECK(*parse_statement_amount(" 3.1 ", 2, plain) == 310);
  CHECK_FALSE(parse_statement_amount("1,000.00", 2, plain).ok());  // no thousands separators by default
  CHECK_FALSE(parse_statement_amount("0.00", 2, plain).ok());
  CHECK_FALSE(parse_statement_amount("10.005", 2, plain).ok());
  CHECK(parse_statement_amount("10.005", 2, plain).status().message().find("at most 2 decimals") != std::string::npos);
  CHECK_FALSE(parse_statement_amount("1e3", 2, plain).ok());
  CHECK_FALSE(parse_statement_amount("--1", 2, plain).ok());
  CHECK_FALSE(parse_statement_amount("99999999999999999999", 2, plain).ok());

  StatementProfile european;
  european.decimal_separator = ',';
  european.thousands_separators = ". '";
  CHECK(*parse_statement_amount("-1.234.567,89", 2, european) == -123456789);
  CHECK(*parse_statement_amount("1 234,5", 2, european) == 123450);
  CHECK(*parse_statement_amount("1'000", 0, european) == 1000);
  CHECK_FALSE(parse_statement_amount("12.34,00", 2, european).ok());   // a group of two
  CHECK_FALSE(parse_statement_amount("1234.567,00", 2, european).ok());  // first group of four
  CHECK_FALSE(parse_statement_amount(".123,00", 2, european).ok());
  CHECK_FALSE(parse_statement_amount("1.23", 2, european).ok());
}

TEST_CASE("statement dates: formats, whole days, bad dates") {
  auto iso = parse_statement_date("2026-11-02", "");
  REQUIRE(iso.ok());
  CHECK(iso->at == "2026-11-02T00:00:00Z");
  CHECK(iso->whole_day);
  auto instant = parse_statement_date("2026-11-02T18:30:00+08:00", "");
  REQUIRE(instant.ok());
  CHECK_FALSE(instant->whole_day);
  auto dotted = parse_statement_date("3.11.2026", "%d.%m.%Y");
  REQUIRE(dotted.ok());
  CHECK(dotted->at == "2026-11-03T00:00:00Z");
  auto us = parse_statement_date("11/03/2026 14:05:09", "%m/%d/%Y %H:%M:%S");
  REQUIRE(us.ok());
  CHECK(us->at == "2026-11-03T14:05:09Z");
  CHECK_FALSE(us->whole_day);
  CHECK_FALSE(parse_statement_date("31.02.2026", "%d.%m.%Y").ok());
  CHECK_FALSE(parse_statement_date("2026-11-02 extra", "%Y-%m-%d").ok());
  CHECK_FALSE(parse_statement_date("02/11/2026", "").ok());
}

TEST_CASE("profiles are read from [statement.profiles.NAME] and checked") {
  auto profiles = fixture_profiles();
  REQUIRE(profiles.count("payflow") == 1);
  REQUIRE(profiles.count("zahlwerk") == 1);
  CHECK(profiles["zahlwerk"].delimiter == ';');
  CHECK(profiles["zahlwerk"].decimal_separator == ',');
  CHECK(profiles["zahlwerk"].debit_values == std::vector<std::string>{"S"});
  CHECK(profiles["payflow"].currency_required);

  Config config;
  Status unknown = apply_config_text("[statement.profiles.x]\ncolumn = \"a\"\n", "f.toml", config);
  CHECK(unknown.message() == "f.toml: statement.profiles.x: unknown key \"column\"");
  Status clash = apply_config_text("[statement.profiles.x]\ndecimal_separator = \",\"\nthousands_separators = \",\"\n",
                                   "f.toml", config);
  CHECK_FALSE(clash.ok());
  CHECK_FALSE(apply_config_text("[statement.profiles.x]\ndelimiter = \";;\"\n", "f.toml", config).ok());
  CHECK_FALSE(apply_config_text("[statement.profiles.x]\nnegative_means = \"up\"\n", "f.toml", config).ok());
  CHECK_FALSE(apply_config_text("[statement]\nprofile = 1\n", "f.toml", config).ok());
  CHECK(apply_config_text("[statement.profiles.x]\nnegative_means = \"in\"\n", "f.toml", config).ok());
  CHECK(config.statement_profiles["x"].negative_means_in);
  CHECK(config.sources["statement.profiles"] == "f.toml");  // read through the option table
  CHECK(apply_config_text("[statement]\nprofiles = 1\n", "f.toml", config).message() ==
        "f.toml: statement.profiles must be a table of profiles");
}

TEST_CASE("CSV of provider PayFlow: quoted amounts with thousands separators, negative payouts, quoted commas") {
  auto profiles = fixture_profiles();
  Read r = read("payflow.csv", StatementFormat::csv, profiles["payflow"]);
  REQUIRE_MESSAGE(r.status.ok(), r.status.message());
  REQUIRE(r.lines.size() == 4);
  CHECK(r.lines[0].line == 2);
  CHECK(r.lines[0].reference == "PF-9001");
  CHECK(r.lines[0].amount == -125000);
  CHECK(r.lines[0].currency == "SGD");
  CHECK(r.lines[0].description == "Payout to alice, bank DBS, account ***1234");
  CHECK(r.lines[0].date.at == "2026-11-02T09:14:03Z");
  CHECK(r.lines[2].amount == -1200000);
  CHECK(r.lines[3].description == "Payout to dave, \"instant\"");
  CHECK(r.lines[3].date.at == "2026-11-02T18:30:00+08:00");
}

TEST_CASE("CSV of provider Zahlwerk: semicolons, decimal comma, direction column, day dates") {
  auto profiles = fixture_profiles();
  Read r = read("zahlwerk.csv", StatementFormat::csv, profiles["zahlwerk"]);
  REQUIRE_MESSAGE(r.status.ok(), r.status.message());
  REQUIRE(r.lines.size() == 4);
  CHECK(r.lines[0].amount == -125000);
  CHECK(r.lines[0].date.whole_day);
  CHECK(r.lines[2].amount == -1200000);
  CHECK(r.lines[2].description == "Auszahlung carol; Sammelüberweisung");
  CHECK(r.lines[3].amount == 4000);  // H: credit, money back
  CHECK(r.lines[3].line == 5);
}

TEST_CASE("JSON Lines statement with the default keys; blank lines keep the numbering") {
  Read r = read("topups.jsonl", StatementFormat::jsonl);
  REQUIRE_MESSAGE(r.status.ok(), r.status.message());
  REQUIRE(r.lines.size() == 3);
  CHECK(r.lines[0].amount == 10000);
  CHECK(r.lines[1].currency.empty());
  CHECK(r.lines[2].line == 4);
  CHECK(r.lines[2].amount == -2000);
}

TEST_CASE("camt.053: single bookings, an itemised batch, a batch as one line, a reversal; pending skipped") {
  Read r = read("bank.camt053.xml", StatementFormat::camt053);
  REQUIRE_MESSAGE(r.status.ok(), r.status.message());
  REQUIRE(r.lines.size() == 6);
  CHECK(r.lines[0].reference == "PO-1001");
  CHECK(r.lines[0].amount == -125000);
  CHECK(r.lines[0].line == 31);
  CHECK(r.lines[0].description == "Withdrawal PO-1001, user alice");
  CHECK(r.lines[0].date.whole_day);
  // The batch of three, itemised: one line per TxDtls, at its line.
  CHECK(r.lines[1].reference == "PO-1002");
  CHECK(r.lines[1].amount == -10000);
  CHECK(r.lines[1].line == 65);
  CHECK(r.lines[3].reference == "PO-1004");
  CHECK(r.lines[3].amount == -30000);
  // The batch without itemised amounts: one line with the total.
  CHECK(r.lines[4].reference == "BNK-77120003");
  CHECK(r.lines[4].amount == -7550);
  CHECK(r.lines[4].description == "Bulk payout, 2 transfers");
  // The reversal of a payout is money back: a credit.
  CHECK(r.lines[5].reference == "PO-0998");
  CHECK(r.lines[5].amount == 4000);
  CHECK(r.lines[5].currency == "SGD");
  CHECK(r.lines[5].date.at == "2026-11-02T16:45:00Z");
  CHECK_FALSE(r.lines[5].date.whole_day);
}

TEST_CASE("bad statement files: the file and line are named, nothing is delivered past the error") {
  Read encoding = read("bad-encoding.csv", StatementFormat::csv);
  CHECK(encoding.status.message() == kFixtures + "bad-encoding.csv:2: not valid UTF-8 (save the statement as UTF-8)");
  CHECK(encoding.lines.empty());

  Read missing = read("bad-missing-column.csv", StatementFormat::csv);
  CHECK(missing.status.message().rfind(kFixtures + "bad-missing-column.csv:1: header: missing column \"amount\"", 0) == 0);

  Read decimals = read("bad-decimals.csv", StatementFormat::csv);
  CHECK(decimals.status.message() ==
        kFixtures + "bad-decimals.csv:3: invalid amount \"-10.005\": at most 2 decimals for this asset");
  CHECK(decimals.lines.size() == 1);

  Read truncated = read("bad-truncated.camt053.xml", StatementFormat::camt053);
  CHECK(truncated.status.code() == Code::invalid);
  CHECK(truncated.status.message().rfind(kFixtures + "bad-truncated.camt053.xml:63: malformed XML", 0) == 0);
  CHECK(truncated.lines.size() == 1);  // the entry before the cut

  Read not_camt = read("payflow.csv", StatementFormat::camt053);
  CHECK(not_camt.status.message().rfind(kFixtures + "payflow.csv:1: malformed XML", 0) == 0);

  std::istringstream wrong_fields("date,amount,reference\n2026-11-02,-1.00\n");
  Status s = read_statement_text(wrong_fields, StatementFormat::csv, {}, 2, "s.csv",
                                 [](const StatementLine&) { return Status::Ok(); });
  CHECK(s.message() == "s.csv:2: expected 3 fields like the header, found 2");
  std::istringstream bad_json("{\"date\": \"2026-11-02\", \"amount\": 1.5, \"reference\": \"x\"}\n");
  s = read_statement_text(bad_json, StatementFormat::jsonl, {}, 2, "s.jsonl",
                          [](const StatementLine&) { return Status::Ok(); });
  CHECK(s.message() == "s.jsonl:1: member \"amount\" must be a string");
  std::istringstream bad_direction("date,amount,reference,dir\n2026-11-02,1.00,x,sideways\n");
  StatementProfile with_direction;
  with_direction.direction = "dir";
  s = read_statement_text(bad_direction, StatementFormat::csv, with_direction, 2, "s.csv",
                          [](const StatementLine&) { return Status::Ok(); });
  CHECK(s.message().rfind("s.csv:2: direction \"sideways\" is neither", 0) == 0);
}

TEST_CASE("statement format from flag, profile or extension") {
  StatementProfile csv_profile;
  csv_profile.format = "csv";
  CHECK(*statement_format_of("x.txt", "", csv_profile) == StatementFormat::csv);
  CHECK(*statement_format_of("x.xml", "", {}) == StatementFormat::camt053);
  CHECK(*statement_format_of("x.jsonl", "", {}) == StatementFormat::jsonl);
  CHECK(*statement_format_of("x.xml", "csv", {}) == StatementFormat::csv);
  CHECK_FALSE(statement_format_of("x.txt", "", {}).ok());
  CHECK_FALSE(statement_format_of("x.csv", "mt940", {}).ok());
}

TEST_CASE("file_sha256 is the SHA-256 of the bytes") {
  auto hash = file_sha256(kFixtures + "bad-missing-column.csv");
  REQUIRE(hash.ok());
  CHECK(*hash == "2a8fdc8b9117a5ae8cd9ea4666786eac8292cd3397bbb6ee832ed83d9aab0a72");
  CHECK_FALSE(file_sha256(kFixtures + "no-such-file").ok());
}
