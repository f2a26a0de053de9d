// The import file formats (no database): RFC 4180 CSV lines, headers and
// records, JSON Lines records, the rules every record obeys, the bounded
// line reader, and the validated line with its key and fingerprint.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/bulk/import.hpp"
#include "core/bulk/import_format.hpp"
#include "core/ledger/ledger.hpp"

using namespace wallet;

namespace {

std::vector<std::string> fields(std::string_view line) {
  auto result = split_csv_line(line);
  REQUIRE_MESSAGE(result.ok(), result.status().message());
  return *result;
}

std::string error_of(std::string_view line) {
  auto result = split_csv_line(line);
  REQUIRE_FALSE(result.ok());
  return result.status().message();
}

CsvColumns header(std::string_view line) {
  auto result = parse_csv_header(line);
  REQUIRE_MESSAGE(result.ok(), result.status().message());
  return *result;
}

ImportRecord jsonl(std::string_view line) {
  auto result = parse_jsonl_record(line);
  REQUIRE_MESSAGE(result.ok(), result.status().message());
  return *result;
}

std::string jsonl_error(std::string_view line) {
  auto result = parse_jsonl_record(line);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == Code::invalid);
  return result.status().message();
}

}  // namespace

TEST_CASE("csv: plain, empty and quoted fields") {
  CHECK(fields("a,b,c") == std::vector<std::string>{"a", "b", "c"});
  CHECK(fields("") == std::vector<std::string>{""});
  CHECK(fields(",,") == std::vector<std::string>{"", "", ""});
  CHECK(fields("a,") == std::vector<std::string>{"a", ""});
  CHECK(fields("\"a,b\",c") == std::vector<std::string>{"a,b", "c"});
  CHECK(fields("\"\"") == std::vector<std::string>{""});
  CHECK(fields("x,\"\"") == std::vector<std::string>{"x", ""});
  CHECK(fields(" a , b ") == std::vector<std::string>{" a ", " b "});  // spaces are data (RFC 4180)
}

TEST_CASE("csv: a doubled quote inside a quoted field is one quote") {
  CHECK(fields("\"say \"\"hi\"\"\",2") == std::vector<std::string>{"say \"hi\"", "2"});
  CHECK(fields("\"\"\"\"") == std::vector<std::string>{"\""});
  CHECK(fields("\"a\"\"\",\"\"\"b\"") == std::vector<std::string>{"a\"", "\"b"});
}

TEST_CASE("csv: malformed quoting is refused with the column") {
  CHECK(error_of("a,\"bc") == "unterminated quoted field starting at column 3 (fields cannot span lines)");
  CHECK(error_of("\"abc\"\"") .find("unterminated") != std::string::npos);
  CHECK(error_of("\"ab\"c,d") == "unexpected text after the closing quote at column 5");
  CHECK(error_of("ab\"c\",d").find("quote inside an unquoted field at column 3") == 0);
}

TEST_CASE("csv: fields cannot span lines, so an opening quote without its close is an error, not a continuation") {
  // A file line "deposit,alice,\"memo starts" followed by "and ends\"" is two
  // bad lines, each reported; the reader never joins them.
  CHECK_FALSE(split_csv_line("deposit,alice,\"memo starts").ok());
  CHECK_FALSE(split_csv_line("and ends\"").ok());
}

TEST_CASE("csv header: known columns once each, with type, asset and user or from") {
  CHECK(header("type,user,asset,amount").names.size() == 4);
  CHECK(header("type,from,to,asset,amount,key,memo").names.size() == 7);
  CHECK(header("\"type\",user,asset").names[0] == "type");
  auto unknown = parse_csv_header("type,user,asset,amout");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("unknown column \"amout\"") != std::string::npos);
  CHECK(parse_csv_header("type,user,asset,user").status().message().find("appears twice") != std::string::npos);
  CHECK(parse_csv_header("user,asset,amount").status().message().find("missing column \"type\"") != std::string::npos);
  CHECK(parse_csv_header("type,user,amount").status().message().find("missing column \"asset\"") != std::string::npos);
  CHECK(parse_csv_header("type,to,asset").status().message().find("missing column \"user\"") != std::string::npos);
}

TEST_CASE("csv record: fields land in the record by header name") {
  const CsvColumns columns = header("type,user,to,asset,amount,kind,key,memo");
  auto r = parse_csv_record(columns, "transfer,alice,bob,GC,10.50,,k-1,\"rent, March\"");
  REQUIRE(r.ok());
  CHECK(r->type == RecordType::transfer);
  CHECK(r->user == "alice");
  CHECK(r->to == "bob");
  CHECK(r->asset == "GC");
  CHECK(r->amount == "10.50");
  CHECK(r->key == "k-1");
  CHECK(r->memo == "rent, March");
  auto w = parse_csv_record(columns, "wallet,carol,,GC,,,,");
  REQUIRE(w.ok());
  CHECK(w->type == RecordType::wallet);
  CHECK(w->amount.empty());
}

TEST_CASE("csv record: missing and extra fields are refused") {
  const CsvColumns columns = header("type,user,asset,amount");
  CHECK(parse_csv_record(columns, "deposit,alice,GC").status().message() ==
        "expected 4 fields as in the header, got 3");
  CHECK(parse_csv_record(columns, "deposit,alice,GC,1,extra").status().message() ==
        "expected 4 fields as in the header, got 5");
  CHECK(parse_csv_record(columns, "deposit,alice,GC,").status().message() == "missing amount");
  CHECK(parse_csv_record(columns, "deposit,,GC,1").status().message() == "missing user");
  CHECK(parse_csv_record(columns, "refund,alice,GC,1").status().message().find("unknown type \"refund\"") == 0);
  CHECK(parse_csv_record(columns, ",alice,GC,1").status().message().find("missing type") == 0);
}

TEST_CASE("csv record: user and from are one field") {
  const CsvColumns columns = header("type,user,from,to,asset,amount");
  CHECK(parse_csv_record(columns, "transfer,,alice,bob,GC,1")->user == "alice");
  CHECK(parse_csv_record(columns, "transfer,alice,,bob,GC,1")->user == "alice");
  CHECK(parse_csv_record(columns, "transfer,alice,alice,bob,GC,1").status().message() ==
        "give either user or from, not both");
}

TEST_CASE("jsonl: one object per line, amounts as text or integers") {
  auto r = jsonl(R"({"type":"deposit","user":"alice","asset":"GC","amount":"10.50","kind":"bonus","memo":"hi"})");
  CHECK(r.type == RecordType::deposit);
  CHECK(r.amount == "10.50");
  CHECK(r.kind == "bonus");
  CHECK(jsonl(R"({"type":"deposit","user":"a","asset":"GC","amount":7})").amount == "7");
  CHECK(jsonl(R"({"type":"transfer","from":"a","to":"b","asset":"GC","amount":"1"})").user == "a");
  CHECK(jsonl(R"({"type":"wallet","user":"a","asset":"GC","memo":null})").memo.empty());
  // A negative integer is passed on as text and refused by amount parsing later.
  CHECK(jsonl(R"({"type":"deposit","user":"a","asset":"GC","amount":-7})").amount == "-7");
}

TEST_CASE("jsonl: truncated or broken JSON names the byte") {
  CHECK(jsonl_error(R"({"type":"deposit","user":"alice")").find("invalid JSON at byte 33: ") == 0);
  CHECK(jsonl_error(R"({"type":"deposit",)").find("invalid JSON") == 0);
  CHECK(jsonl_error("{").find("invalid JSON") == 0);
  CHECK(jsonl_error("not json").find("invalid JSON") == 0);
  CHECK(jsonl_error(R"({"a":1} {"b":2})").find("invalid JSON") == 0);
}

TEST_CASE("jsonl: wrong shapes and members are refused") {
  CHECK(jsonl_error("[1,2]") == "expected a JSON object");
  CHECK(jsonl_error("\"deposit\"") == "expected a JSON object");
  CHECK(jsonl_error(R"({"type":"deposit","user":"a","asset":"GC","amount":"1","extra":1})")
            .find("unknown member \"extra\"") == 0);
  CHECK(jsonl_error(R"({"type":"deposit","user":"a","user":"b","asset":"GC","amount":"1"})") ==
        "member \"user\" appears twice");
  CHECK(jsonl_error(R"({"type":"deposit","user":"a","asset":"GC","amount":1.5})").find("exact decimal text") !=
        std::string::npos);
  CHECK(jsonl_error(R"({"type":"deposit","user":"a","asset":"GC","amount":1e3})").find("exact decimal text") !=
        std::string::npos);
  CHECK(jsonl_error(R"({"type":"deposit","user":["a"],"asset":"GC","amount":"1"})") == "user must be a string");
  CHECK(jsonl_error(R"({"type":"deposit","user":"a","asset":"GC","amount":true})") == "amount must be a string");
  CHECK(jsonl_error(R"({"user":"a","asset":"GC","amount":"1"})").find("missing type") == 0);
  CHECK(jsonl_error(R"({"type":"deposit","user":"a","asset":"GC"})") == "missing amount");
}

TEST_CASE("records: each type takes only the fields it can use") {
  ImportRecord r;
  r.user = "alice";
  r.asset = "GC";
  r.type = RecordType::wallet;
  CHECK(check_record(r).ok());
  r.kind = "bonus";
  CHECK(check_record(r).message() == "kind is only for deposits and withdrawals");
  r.kind.clear();
  r.to = "bob";
  CHECK(check_record(r).message() == "to is only for transfers");
  r.type = RecordType::transfer;
  r.amount = "1";
  CHECK(check_record(r).ok());
  r.kind = "transfer";
  CHECK(check_record(r).ok());
  r.to.clear();
  CHECK(check_record(r).message() == "missing to");
  r.type = RecordType::deposit;
  r.kind = "bonus";
  r.memo = "caf\xc3\xa9";
  CHECK(check_record(r).ok());
  r.memo = "caf\xc3";
  CHECK(check_record(r).message() == "text is not valid UTF-8");
  r.memo = "\xc0\xaf";  // overlong '/'
  CHECK(check_record(r).message() == "text is not valid UTF-8");
  r.memo = "\xed\xa0\x80";  // a surrogate
  CHECK(check_record(r).message() == "text is not valid UTF-8");
}

TEST_CASE("the format comes from --format, else the extension") {
  CHECK(*import_format_of("x.csv", "") == ImportFormat::csv);
  CHECK(*import_format_of("x.jsonl", "") == ImportFormat::jsonl);
  CHECK(*import_format_of("x.ndjson", "") == ImportFormat::jsonl);
  CHECK(*import_format_of("x.txt", "csv") == ImportFormat::csv);
  CHECK(*import_format_of("-", "jsonl") == ImportFormat::jsonl);
  CHECK(import_format_of("-", "").status().message().find("standard input: give --format") != std::string::npos);
  CHECK_FALSE(import_format_of("x.txt", "").ok());
  CHECK_FALSE(import_format_of("x.csv", "xml").ok());
}

TEST_CASE("line reader: line endings, BOM, blank lines, numbering and the length bound") {
  std::istringstream in("\xef\xbb\xbftype,user\r\nsecond\n\n" + std::string(kImportLineBytesMax + 10, 'x') +
                        "\nlast without newline");
  LineReader reader(in);
  std::string line;
  CHECK(reader.next(line) == LineReader::Next::line);
  CHECK(line == "type,user");
  CHECK(reader.line_number() == 1);
  CHECK(reader.next(line) == LineReader::Next::line);
  CHECK(line == "second");
  CHECK(reader.next(line) == LineReader::Next::line);
  CHECK(is_blank_line(line));
  CHECK(reader.next(line) == LineReader::Next::too_long);
  CHECK(line.empty());
  CHECK(reader.line_number() == 4);
  CHECK(reader.next(line) == LineReader::Next::line);
  CHECK(line == "last without newline");
  CHECK(reader.line_number() == 5);
  CHECK(reader.next(line) == LineReader::Next::end);
  CHECK(reader.bytes_read() == static_cast<int64_t>(in.str().size()));
}

TEST_CASE("line reader: lines across its buffer boundary come out whole") {
  std::string text;
  for (int i = 0; i < 20'000; ++i) text += "line-" + std::to_string(i) + "\n";
  std::istringstream in(text);
  LineReader reader(in);
  std::string line;
  int count = 0;
  while (reader.next(line) == LineReader::Next::line) {
    REQUIRE(line == "line-" + std::to_string(count));
    ++count;
  }
  CHECK(count == 20'000);
}

TEST_CASE("import line: same validation as a single movement, key derived from content") {
  ImportRecord r;
  r.type = RecordType::deposit;
  r.user = "alice";
  r.asset = "GC";
  r.amount = "10.5";
  auto line = import_line_of(r, 7, 2, false);
  REQUIRE(line.ok());
  CHECK(line->line == 7);
  CHECK(*line->amount == 1050);
  CHECK(line->from_user == "@treasury");
  CHECK(line->to_user == "alice");
  CHECK(line->kind == "deposit");
  CHECK(line->idempotency_key.rfind("import:deposit:", 0) == 0);
  CHECK(line->idempotency_key.size() == std::string("import:deposit:").size() + 32);
  // "10.5" and "10.50" are the same movement: the same key.
  r.amount = "10.50";
  CHECK(import_line_of(r, 9, 2, false)->idempotency_key == line->idempotency_key);
  r.memo = "other";
  CHECK(import_line_of(r, 9, 2, false)->idempotency_key != line->idempotency_key);
  r.key = "given-key";
  CHECK(import_line_of(r, 9, 2, false)->idempotency_key == "given-key");
  r.amount = "1.234";
  CHECK(import_line_of(r, 9, 2, false).status().message().find("at most 2 decimals") != std::string::npos);
  r.amount = "0";
  CHECK_FALSE(import_line_of(r, 9, 2, false).ok());
}

TEST_CASE("import line: fingerprint matches the one a CLI movement would have") {
  ImportRecord r;
  r.type = RecordType::transfer;
  r.user = "alice";
  r.to = "bob";
  r.asset = "GC";
  r.amount = "3";
  r.memo = "m";
  auto line = import_line_of(r, 1, 0, false);
  REQUIRE(line.ok());
  MovementRequest request;
  request.kind = "transfer";
  request.from_user = "alice";
  request.to_user = "bob";
  request.asset = "GC";
  request.amount = 3;
  request.memo = "m";
  CHECK(line->fingerprint == fingerprint_of(request));
}

TEST_CASE("import line: wallets, kinds, ids and the settlement rule") {
  ImportRecord w;
  w.type = RecordType::wallet;
  w.user = "carol";
  w.asset = "GC";
  auto bare = import_line_of(w, 1, 2, false);
  REQUIRE(bare.ok());
  CHECK(bare->creates_wallet);
  CHECK_FALSE(bare->amount.has_value());
  CHECK(bare->idempotency_key.empty());
  w.amount = "100";
  auto funded = import_line_of(w, 1, 2, false);
  CHECK(funded->idempotency_key == "import:wallet:carol:GC");
  CHECK(funded->memo == "opening balance");
  CHECK(*funded->amount == 10000);

  ImportRecord d;
  d.type = RecordType::withdraw;
  d.user = "alice";
  d.asset = "GC";
  d.amount = "1";
  CHECK(import_line_of(d, 1, 2, false)->to_user == "@settlement");
  d.kind = "purchase";
  CHECK(import_line_of(d, 1, 2, true)->to_user == "@revenue");
  d.kind = "";
  CHECK(import_line_of(d, 1, 2, true).status().message().find("settlement command") != std::string::npos);
  d.kind = "bonus";
  CHECK(import_line_of(d, 1, 2, false).status().message().find("invalid kind") == 0);
  d.kind = "";
  d.user = "@treasury";
  CHECK(import_line_of(d, 1, 2, false).status().message().find("reserved for system accounts") != std::string::npos);
  d.user = "alice";
  d.asset = "gc";
  CHECK(import_line_of(d, 1, 2, false).status().message().find("invalid asset") == 0);
  d.asset = "GC";
  d.key = "has space";
  CHECK(import_line_of(d, 1, 2, false).status().message().find("invalid idempotency key") == 0);

  ImportRecord t;
  t.type = RecordType::transfer;
  t.user = "alice";
  t.to = "alice";
  t.asset = "GC";
  t.amount = "1";
  CHECK(import_line_of(t, 1, 2, false).status().message().find("to itself") != std::string::npos);
}
