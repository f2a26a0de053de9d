// Helpers shared by the import fuzz targets: records compared and written
// in the other format, so each target checks that CSV and JSON Lines agree.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "core/bulk/import_format.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace wallet::fuzz {

// Lines of one input parsed and checked (all are split by LineReader): a
// file of thousands of empty lines teaches nothing new per line and would
// slow every execution down.
inline constexpr std::size_t kLinesCheckedMax = 64;

inline const char* type_name(RecordType type) {
  switch (type) {
    case RecordType::wallet: return "wallet";
    case RecordType::deposit: return "deposit";
    case RecordType::withdraw: return "withdraw";
    case RecordType::transfer: return "transfer";
  }
  return "?";
}

inline bool same_record(const ImportRecord& a, const ImportRecord& b) {
  return a.type == b.type && a.user == b.user && a.to == b.to && a.asset == b.asset && a.amount == b.amount &&
         a.kind == b.kind && a.key == b.key && a.memo == b.memo;
}

inline std::string describe(const ImportRecord& r) {
  return std::string(type_name(r.type)) + " user=" + r.user + " to=" + r.to + " asset=" + r.asset +
         " amount=" + r.amount + " kind=" + r.kind + " key=" + r.key + " memo=" + r.memo;
}

// Every field quoted, quotes doubled (RFC 4180).
inline std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += '"';
    for (char c : fields[i]) {
      if (c == '"') line += '"';
      line += c;
    }
    line += '"';
  }
  return line;
}

inline const char* kFullCsvHeader = "type,user,to,asset,amount,kind,key,memo";

inline std::string csv_line(const ImportRecord& r) {
  return csv_line({type_name(r.type), r.user, r.to, r.asset, r.amount, r.kind, r.key, r.memo});
}

// The record as one JSON object with its non-empty fields.
inline std::string jsonl_line(const ImportRecord& r) {
  nlohmann::json object = {{"type", type_name(r.type)}};
  const std::pair<const char*, const std::string*> fields[] = {{"user", &r.user}, {"to", &r.to},
                                                               {"asset", &r.asset}, {"amount", &r.amount},
                                                               {"kind", &r.kind}, {"key", &r.key},
                                                               {"memo", &r.memo}};
  for (const auto& [name, value] : fields) {
    if (!value->empty()) object[name] = *value;
  }
  return object.dump();
}

// The lines of `text` as LineReader must return them, computed the plain
// way: split at '\n' (a final '\n' ends the last line), one '\r' before
// it removed, a UTF-8 byte order mark removed from the first line; a line
// longer than kImportLineBytesMax (with its '\r') comes back empty.
inline std::vector<std::string> expected_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.size() > kImportLineBytesMax) line.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lines.empty() && line.rfind("\xef\xbb\xbf", 0) == 0) line.erase(0, 3);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Splits `text` with LineReader, checking it against expected_lines: line
// numbers count up from 1, every byte is accounted for.
inline std::vector<std::string> read_lines(const std::string& text) {
  std::istringstream in(text);
  LineReader reader(in);
  std::vector<std::string> lines;
  std::string line;
  for (;;) {
    const auto next = reader.next(line);
    if (next == LineReader::Next::end) break;
    check(reader.line_number() == static_cast<int64_t>(lines.size()) + 1, "line numbers count from 1");
    check(line.find('\n') == std::string::npos, "a line holds no newline");
    if (next == LineReader::Next::too_long) check(line.empty(), "a too long line comes back empty");
    lines.push_back(line);
  }
  check(reader.bytes_read() == static_cast<int64_t>(text.size()), "LineReader accounts for every byte");
  check(lines == expected_lines(text), "LineReader splits lines as documented");
  return lines;
}

}  // namespace wallet::fuzz
