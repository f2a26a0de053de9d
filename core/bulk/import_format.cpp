#include "core/bulk/import_format.hpp"

#include "core/domain/validate.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

namespace wallet {

namespace {

// Longest piece of user text quoted back in a message.
constexpr std::size_t kShownMax = 40;

// Longest JSON parser message kept (it quotes the text it read last).
constexpr std::size_t kJsonErrorShownMax = 200;

std::string shown(std::string_view text) { return excerpt(text, kShownMax); }


Result<RecordType> record_type_of(std::string_view name) {
  if (name == "wallet") return RecordType::wallet;
  if (name == "deposit") return RecordType::deposit;
  if (name == "withdraw") return RecordType::withdraw;
  if (name == "transfer") return RecordType::transfer;
  if (name.empty()) return Status::Invalid("missing type: wallet, deposit, withdraw or transfer");
  return Status::Invalid("unknown type \"" + shown(name) + "\": wallet, deposit, withdraw or transfer");
}

// The record field a column or JSON member fills; nullptr for "type",
// which is parsed on its own.
std::string* field_of(ImportRecord& record, std::string_view name) {
  if (name == "user" || name == "from") return &record.user;
  if (name == "to") return &record.to;
  if (name == "asset") return &record.asset;
  if (name == "amount") return &record.amount;
  if (name == "kind") return &record.kind;
  if (name == "key") return &record.key;
  if (name == "memo") return &record.memo;
  if (name == "reference") return &record.reference;
  return nullptr;
}

bool is_known_field(std::string_view name) {
  static const std::set<std::string_view> kFields = {"type", "user", "from", "to",  "asset",
                                                     "amount", "kind", "key", "memo", "reference"};
  return kFields.count(name) > 0;
}

// Sets `name` (user/from share one field: only one of them may be given).
Status set_field(ImportRecord& record, std::string_view name, std::string value, bool& user_given) {
  if (value.empty()) return Status::Ok();
  if (name == "user" || name == "from") {
    if (user_given) return Status::Invalid("give either user or from, not both");
    user_given = true;
  }
  *field_of(record, name) = std::move(value);
  return Status::Ok();
}

// The message of a JSON parse error without the library's prefix.
std::string json_error_message(const nlohmann::json::parse_error& error) {
  std::string text = error.what();
  if (auto colon = text.find(": "); colon != std::string::npos) text.erase(0, colon + 2);
  // The library quotes the bytes it read, which may be invalid UTF-8.
  return "invalid JSON at byte " + std::to_string(error.byte) + ": " + excerpt(text, kJsonErrorShownMax);
}

// The message of any other JSON error, without the "[json.exception...] " prefix.
std::string json_exception_text(const nlohmann::json::exception& error) {
  std::string text = error.what();
  if (auto end = text.find("] "); text.rfind("[json.exception.", 0) == 0 && end != std::string::npos) {
    text.erase(0, end + 2);
  }
  return excerpt(text, kJsonErrorShownMax);
}

Result<std::string> json_member_text(const std::string& name, const nlohmann::json& value) {
  if (value.is_null()) return std::string();
  if (value.is_string()) return value.get<std::string>();
  if (name == "amount" && value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (name == "amount" && value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (name == "amount" && value.is_number_float()) {
    return Status::Invalid("amount must be exact decimal text such as \"10.50\", not a JSON number with a fraction");
  }
  return Status::Invalid(name + " must be a string");
}

}  // namespace

Result<ImportFormat> import_format_of(const std::string& path, const std::string& flag) {
  if (flag == "csv") return ImportFormat::csv;
  if (flag == "jsonl") return ImportFormat::jsonl;
  if (!flag.empty()) return Status::Invalid("unknown --format \"" + shown(flag) + "\": csv or jsonl");
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".csv") || ends_with(".CSV")) return ImportFormat::csv;
  for (const char* suffix : {".jsonl", ".ndjson", ".json", ".JSONL"}) {
    if (ends_with(suffix)) return ImportFormat::jsonl;
  }
  return Status::Invalid("cannot tell the format of " + (path == "-" ? std::string("standard input") : path) +
                         ": give --format csv or --format jsonl");
}

Result<std::vector<std::string>> split_csv_line(std::string_view line, char delimiter) {
  std::vector<std::string> fields(1);
  std::size_t i = 0;
  while (i <= line.size()) {
    std::string& field = fields.back();
    if (i < line.size() && line[i] == '"') {
      const std::size_t opened = i++;
      for (;;) {
        if (i >= line.size()) {
          return Status::Invalid("unterminated quoted field starting at column " + std::to_string(opened + 1) +
                                 " (fields cannot span lines)");
        }
        if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          i += 2;
        } else if (line[i] == '"') {
          ++i;
          break;
        } else {
          field += line[i++];
        }
      }
      if (i < line.size() && line[i] != delimiter) {
        return Status::Invalid("unexpected text after the closing quote at column " + std::to_string(i + 1));
      }
    } else {
      while (i < line.size() && line[i] != delimiter) {
        if (line[i] == '"') {
          return Status::Invalid("quote inside an unquoted field at column " + std::to_string(i + 1) +
                                 " (quote the whole field and double the quote)");
        }
        field += line[i++];
      }
    }
    if (i == line.size()) break;
    ++i;  // the delimiter
    fields.emplace_back();
  }
  return fields;
}

Result<CsvColumns> parse_csv_header(std::string_view line) {
  auto names = split_csv_line(line);
  if (!names.ok()) return Status::Invalid("header: " + names.status().message());
  std::set<std::string> seen;
  for (const auto& name : *names) {
    if (!is_known_field(name)) {
      return Status::Invalid("header: unknown column \"" + shown(name) +
                             "\" (columns: type, user or from, to, asset, amount, kind, key, memo, reference)");
    }
    if (!seen.insert(name).second) return Status::Invalid("header: column \"" + name + "\" appears twice");
  }
  for (const char* required : {"type", "asset"}) {
    if (seen.count(required) == 0) return Status::Invalid(std::string("header: missing column \"") + required + "\"");
  }
  if (seen.count("user") == 0 && seen.count("from") == 0) {
    return Status::Invalid("header: missing column \"user\" (or \"from\")");
  }
  return CsvColumns{*names};
}

Result<ImportRecord> parse_csv_record(const CsvColumns& columns, std::string_view line) {
  auto fields = split_csv_line(line);
  if (!fields.ok()) return fields.status();
  if (fields->size() != columns.names.size()) {
    return Status::Invalid("expected " + std::to_string(columns.names.size()) + " fields as in the header, got " +
                           std::to_string(fields->size()));
  }
  ImportRecord record;
  bool user_given = false;
  std::string type;
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const std::string& name = columns.names[i];
    if (name == "type") {
      type = (*fields)[i];
      continue;
    }
    if (Status s = set_field(record, name, std::move((*fields)[i]), user_given); !s.ok()) return s;
  }
  auto parsed_type = record_type_of(type);
  if (!parsed_type.ok()) return parsed_type.status();
  record.type = *parsed_type;
  if (Status s = check_record(record); !s.ok()) return s;
  return record;
}

Result<ImportRecord> parse_jsonl_record(std::string_view line) {
  std::set<std::string> members;
  std::string duplicate;
  const nlohmann::json::parser_callback_t note_keys = [&](int depth, nlohmann::json::parse_event_t event,
                                                          nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && !members.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(line.begin(), line.end(), note_keys);
  } catch (const nlohmann::json::parse_error& error) {
    return Status::Invalid(json_error_message(error));
  } catch (const nlohmann::json::exception& error) {
    // Not only parse_error: a number too large even for a double (1e999)
    // is out_of_range (406).
    return Status::Invalid("invalid JSON: " + json_exception_text(error));
  }
  if (!object.is_object()) return Status::Invalid("expected a JSON object");
  if (!duplicate.empty()) return Status::Invalid("member \"" + shown(duplicate) + "\" appears twice");
  ImportRecord record;
  bool user_given = false;
  std::string type;
  for (const auto& [name, value] : object.items()) {
    if (!is_known_field(name)) {
      return Status::Invalid("unknown member \"" + shown(name) +
                             "\" (members: type, user or from, to, asset, amount, kind, key, memo, reference)");
    }
    auto text = json_member_text(name, value);
    if (!text.ok()) return text.status();
    if (name == "type") {
      type = *text;
    } else if (Status s = set_field(record, name, std::move(*text), user_given); !s.ok()) {
      return s;
    }
  }
  auto parsed_type = record_type_of(type);
  if (!parsed_type.ok()) return parsed_type.status();
  record.type = *parsed_type;
  if (Status s = check_record(record); !s.ok()) return s;
  return record;
}

Status check_record(const ImportRecord& r) {
  for (const std::string* text : {&r.user, &r.to, &r.asset, &r.amount, &r.kind, &r.key, &r.memo, &r.reference}) {
    if (!is_valid_utf8(*text)) return Status::Invalid("text is not valid UTF-8");
  }
  if (r.user.empty()) return Status::Invalid(r.type == RecordType::transfer ? "missing from (or user)" : "missing user");
  if (r.asset.empty()) return Status::Invalid("missing asset");
  const bool movement = r.type != RecordType::wallet;
  if (movement && r.amount.empty()) return Status::Invalid("missing amount");
  if (r.type == RecordType::transfer && r.to.empty()) return Status::Invalid("missing to");
  if (r.type != RecordType::transfer && !r.to.empty()) return Status::Invalid("to is only for transfers");
  if ((r.type == RecordType::wallet || r.type == RecordType::transfer) && !r.kind.empty() &&
      !(r.type == RecordType::transfer && r.kind == "transfer")) {
    return Status::Invalid("kind is only for deposits and withdrawals");
  }
  return Status::Ok();
}

bool is_blank_line(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

LineReader::Next LineReader::next(std::string& line) {
  line.clear();
  bool too_long = false;
  bool any = false;
  for (;;) {
    if (position_ == end_ && !fill()) break;
    any = true;
    const char* start = buffer_.data() + position_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - position_));
    const std::size_t length = newline != nullptr ? static_cast<std::size_t>(newline - start) : end_ - position_;
    if (!too_long && line.size() + length > kImportLineBytesMax) {
      too_long = true;
      line.clear();
    }
    if (!too_long) line.append(start, length);
    position_ += length;
    bytes_read_ += static_cast<int64_t>(length);
    if (newline != nullptr) {
      ++position_;
      ++bytes_read_;
      break;
    }
  }
  if (!any) return Next::end;
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line_number_ == 1 && line.rfind("\xef\xbb\xbf", 0) == 0) line.erase(0, 3);
  return too_long ? Next::too_long : Next::line;
}

bool LineReader::fill() {
  in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  position_ = 0;
  end_ = static_cast<std::size_t>(in_.gcount());
  return end_ > 0;
}

}  // namespace wallet
