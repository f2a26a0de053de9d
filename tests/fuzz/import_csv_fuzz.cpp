// libFuzzer target: the CSV side of `walletctl import` (core/import_format:
// LineReader, split_csv_line, parse_csv_header, parse_csv_record).
//
// Input: a CSV file. The first line is the header; when it is refused the
// data lines are read under the full header instead, so they are still
// exercised. Invariants, beyond "no crash" and "nothing throws":
//  - LineReader's own (see read_lines);
//  - split_csv_line round-trips: the fields written back fully quoted
//    split into the same fields;
//  - an accepted header names known columns once each, with type, asset
//    and user or from;
//  - an accepted record passes check_record, holds exactly the row's
//    fields, and reads back the same from its JSON Lines form;
//  - every refusal is Invalid with one clean line of message.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "tests/fuzz/import_support.hpp"

namespace {

using namespace wallet;
using wallet::fuzz::check;

void check_split(const std::string& line) {
  auto fields = split_csv_line(line);
  if (!fields.ok()) {
    wallet::fuzz::check_error_message(fields.status());
    return;
  }
  check(!fields->empty(), "a line has at least one field");
  auto again = split_csv_line(wallet::fuzz::csv_line(*fields));
  check(again.ok() && *again == *fields, "fields written back quoted split the same", line);
}

void check_header(const CsvColumns& columns) {
  static const std::set<std::string> kKnown = {"type", "user", "from", "to", "asset", "amount", "kind", "key", "memo"};
  std::set<std::string> seen;
  for (const auto& name : columns.names) {
    check(kKnown.count(name) == 1, "header columns are known", name);
    check(seen.insert(name).second, "header columns appear once", name);
  }
  check(seen.count("type") == 1 && seen.count("asset") == 1 && (seen.count("user") + seen.count("from")) >= 1,
        "header has type, asset and user or from");
}

void check_record_line(const CsvColumns& columns, const std::string& line) {
  auto record = parse_csv_record(columns, line);
  if (!record.ok()) {
    check(record.status().code() == Code::invalid, "a refused line is invalid input");
    wallet::fuzz::check_error_message(record.status());
    return;
  }
  check(check_record(*record).ok(), "an accepted record passes check_record");
  auto fields = split_csv_line(line);
  check(fields.ok() && fields->size() == columns.names.size(), "an accepted row has the header's field count");
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const std::string& name = columns.names[i];
    const std::string& value = (*fields)[i];
    const std::string* slot = name == "type"                      ? nullptr
                              : name == "user" || name == "from" ? &record->user
                              : name == "to"                     ? &record->to
                              : name == "asset"                  ? &record->asset
                              : name == "amount"                 ? &record->amount
                              : name == "kind"                   ? &record->kind
                              : name == "key"                    ? &record->key
                                                                 : &record->memo;
    if (slot == nullptr) {
      check(value == wallet::fuzz::type_name(record->type), "the type column gives the record's type", value);
    } else if (!value.empty()) {
      check(*slot == value, "a non-empty field lands in its record field", name);
    }
  }
  auto json = parse_jsonl_record(wallet::fuzz::jsonl_line(*record));
  check(json.ok() && wallet::fuzz::same_record(*json, *record), "the record reads back the same as JSON Lines",
        wallet::fuzz::describe(*record));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto lines = wallet::fuzz::read_lines(text);
  if (lines.empty()) return 0;
  for (std::size_t i = 0; i < lines.size() && i <= wallet::fuzz::kLinesCheckedMax; ++i) check_split(lines[i]);

  auto header = parse_csv_header(lines[0]);
  CsvColumns columns;
  if (header.ok()) {
    check_header(*header);
    columns = *header;
  } else {
    wallet::fuzz::check_error_message(header.status());
    columns = *parse_csv_header(wallet::fuzz::kFullCsvHeader);
  }
  for (std::size_t i = 1; i < lines.size() && i <= wallet::fuzz::kLinesCheckedMax; ++i) {
    check_record_line(columns, lines[i]);
  }
  return 0;
}
