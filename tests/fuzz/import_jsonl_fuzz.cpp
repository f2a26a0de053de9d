// libFuzzer target: the JSON Lines side of `walletctl import`
// (core/import_format: LineReader, parse_jsonl_record, check_record).
//
// Input: a JSON Lines file. Invariants, beyond "no crash" and "nothing
// throws past the interface":
//  - LineReader's own (see read_lines);
//  - an accepted line is one JSON object of known members, and the record
//    holds exactly its non-null members (amount integers as decimal text);
//  - an accepted record passes check_record and reads back the same from
//    its CSV form;
//  - every refusal is Invalid with one clean line of message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/import_support.hpp"

namespace {

using namespace wallet;
using wallet::fuzz::check;

void check_members(const ImportRecord& record, const std::string& line) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    wallet::fuzz::fail("an accepted line is JSON", e.what());
  }
  check(object.is_object(), "an accepted line is a JSON object");
  for (const auto& [name, value] : object.items()) {
    if (value.is_null()) continue;
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else {
      check(name == "amount" && (value.is_number_integer() || value.is_number_unsigned()),
            "only amount may be a JSON integer", name);
      text = value.dump();
    }
    if (text.empty()) continue;
    const std::string* slot = name == "type"                      ? nullptr
                              : name == "user" || name == "from" ? &record.user
                              : name == "to"                     ? &record.to
                              : name == "asset"                  ? &record.asset
                              : name == "amount"                 ? &record.amount
                              : name == "kind"                   ? &record.kind
                              : name == "key"                    ? &record.key
                              : name == "memo"                   ? &record.memo
                                                                 : nullptr;
    if (name == "type") {
      check(text == wallet::fuzz::type_name(record.type), "the type member gives the record's type", text);
    } else {
      check(slot != nullptr, "an accepted line has only known members", name);
      check(*slot == text, "a member lands in its record field", name);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto csv_header = parse_csv_header(wallet::fuzz::kFullCsvHeader);
  check(csv_header.ok(), "the full CSV header is accepted");
  const auto lines = wallet::fuzz::read_lines(text);
  for (std::size_t i = 0; i < lines.size() && i < wallet::fuzz::kLinesCheckedMax; ++i) {
    const std::string& line = lines[i];
    auto record = parse_jsonl_record(line);
    if (!record.ok()) {
      check(record.status().code() == Code::invalid, "a refused line is invalid input");
      wallet::fuzz::check_error_message(record.status());
      continue;
    }
    check(check_record(*record).ok(), "an accepted record passes check_record");
    check_members(*record, line);
    auto csv = parse_csv_record(csv_header.value(), wallet::fuzz::csv_line(*record));
    check(csv.ok() && wallet::fuzz::same_record(*csv, *record), "the record reads back the same as CSV",
          csv.ok() ? wallet::fuzz::describe(*record) : csv.status().message());
  }
  return 0;
}
