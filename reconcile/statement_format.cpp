#include "reconcile/statement_format.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/bulk/import_format.hpp"
#include "core/domain/amount.hpp"
#include "core/domain/timestamp.hpp"
#include "core/domain/validate.hpp"
#include "reconcile/camt053.hpp"

namespace wallet {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool same_name(std::string_view a, std::string_view b) {
  a = trim(a);
  b = trim(b);
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status bad_amount(std::string_view text, const std::string& why) {
  return Status::Invalid("invalid amount \"" + excerpt(text, kAmountTextMax) + "\": " + why);
}

// Reads `count` digits (at least `count_min`) at `at`; advances `at`.
bool read_number(std::string_view text, std::size_t& at, std::size_t count_min, std::size_t count, int& value) {
  value = 0;
  std::size_t read = 0;
  while (read < count && at < text.size() && text[at] >= '0' && text[at] <= '9') {
    value = value * 10 + (text[at++] - '0');
    ++read;
  }
  return read >= count_min;
}

// The fields of a line, by role, after the reader found its columns.
struct Fields {
  std::string_view date, amount, reference, description, currency, direction;
  bool has_description = false, has_currency = false, has_direction = false;
};

bool is_one_of(std::string_view value, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    if (same_name(value, v)) return true;
  }
  return false;
}

// One statement line from its fields: the checks every format shares.
Result<StatementLine> make_line(const Fields& f, const StatementProfile& profile, int scale) {
  StatementLine line;
  auto date = parse_statement_date(trim(f.date), profile.date_format);
  if (!date.ok()) return date.status();
  line.date = *date;
  auto amount = parse_statement_amount(f.amount, scale, profile);
  if (!amount.ok()) return amount.status();
  line.amount = *amount;
  if (f.has_direction) {
    const std::string_view direction = trim(f.direction);
    if (line.amount < 0) return Status::Invalid("amount \"" + excerpt(f.amount, 40) + "\" has a sign and a direction column");
    if (is_one_of(direction, profile.debit_values)) {
      line.amount = -line.amount;
    } else if (!is_one_of(direction, profile.credit_values)) {
      return Status::Invalid("direction \"" + excerpt(direction, 40) + "\" is neither a debit value (" +
                             profile.debit_values.front() + ", ...) nor a credit value (" +
                             profile.credit_values.front() + ", ...)");
    }
  } else if (profile.negative_means_in) {
    line.amount = -line.amount;
  }
  const std::string_view reference = trim(f.reference);
  if (reference.size() > kStatementReferenceMax) {
    return Status::Invalid("reference longer than " + std::to_string(kStatementReferenceMax) + " bytes");
  }
  line.reference = std::string(reference);
  if (f.has_currency) {
    const std::string_view currency = trim(f.currency);
    if (currency.size() > kStatementCurrencyMax) return Status::Invalid("currency \"" + excerpt(currency, 20) + "\" is too long");
    line.currency = std::string(currency);
  }
  if (f.has_description) {
    std::string description = excerpt(trim(f.description), kStatementDescriptionMax);
    line.description = std::move(description);
  }
  for (const std::string* text : {&line.reference, &line.currency}) {
    if (Status s = validate_text(*text, text == &line.reference ? "reference" : "currency", kStatementReferenceMax);
        !s.ok()) {
      return s;
    }
  }
  return line;
}

// Column positions of the CSV header, by role; -1 when absent.
struct CsvLayout {
  int date = -1, amount = -1, reference = -1, description = -1, currency = -1, direction = -1;
  std::size_t columns = 0;
};

Result<CsvLayout> csv_layout(std::string_view header, const StatementProfile& profile) {
  auto names = split_csv_line(header, profile.delimiter);
  if (!names.ok()) return Status::Invalid("header: " + names.status().message());
  CsvLayout layout;
  layout.columns = names->size();
  const auto find = [&](const std::string& name, bool required, int& at) -> Status {
    for (std::size_t i = 0; i < names->size(); ++i) {
      if (same_name((*names)[i], name)) {
        at = static_cast<int>(i);
        return Status::Ok();
      }
    }
    if (!required) return Status::Ok();
    return Status::Invalid("header: missing column \"" + excerpt(name, 60) + "\"" +
                           (profile.name.empty() ? std::string(" (columns: date, amount, reference, description, currency)")
                                                 : " (profile " + profile.name + ")"));
  };
  for (Status s : {find(profile.date, true, layout.date), find(profile.amount, true, layout.amount),
                   find(profile.reference, true, layout.reference),
                   find(profile.description, profile.description_required, layout.description),
                   find(profile.currency, profile.currency_required, layout.currency),
                   profile.direction.empty() ? Status::Ok() : find(profile.direction, true, layout.direction)}) {
    if (!s.ok()) return s;
  }
  return layout;
}

Result<StatementLine> csv_line(std::string_view text, const CsvLayout& layout, const StatementProfile& profile,
                               int scale) {
  auto fields = split_csv_line(text, profile.delimiter);
  if (!fields.ok()) return fields.status();
  if (fields->size() != layout.columns) {
    return Status::Invalid("expected " + std::to_string(layout.columns) + " fields like the header, found " +
                           std::to_string(fields->size()));
  }
  Fields f;
  const auto& v = *fields;
  f.date = v[layout.date];
  f.amount = v[layout.amount];
  f.reference = v[layout.reference];
  if (layout.description >= 0) f.description = v[layout.description], f.has_description = true;
  if (layout.currency >= 0) f.currency = v[layout.currency], f.has_currency = true;
  if (layout.direction >= 0) f.direction = v[layout.direction], f.has_direction = true;
  return make_line(f, profile, scale);
}

Result<StatementLine> jsonl_line(std::string_view text, const StatementProfile& profile, int scale) {
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, false);
  if (object.is_discarded()) return Status::Invalid("not valid JSON");
  if (!object.is_object()) return Status::Invalid("expected a JSON object");
  std::map<std::string, std::string> values;
  const auto get = [&](const std::string& key, bool required, std::string_view& out, bool* present) -> Status {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
      return required ? Status::Invalid("missing member \"" + excerpt(key, 60) + "\"") : Status::Ok();
    }
    if (it->is_number_integer()) {
      values[key] = it->dump();
    } else if (it->is_string()) {
      values[key] = it->get<std::string>();
    } else {
      return Status::Invalid("member \"" + excerpt(key, 60) + "\" must be a string");
    }
    out = values[key];
    if (present != nullptr) *present = true;
    return Status::Ok();
  };
  Fields f;
  for (Status s : {get(profile.date, true, f.date, nullptr), get(profile.amount, true, f.amount, nullptr),
                   get(profile.reference, false, f.reference, nullptr),
                   get(profile.description, profile.description_required, f.description, &f.has_description),
                   get(profile.currency, profile.currency_required, f.currency, &f.has_currency),
                   profile.direction.empty() ? Status::Ok()
                                             : get(profile.direction, true, f.direction, &f.has_direction)}) {
    if (!s.ok()) return s;
  }
  return make_line(f, profile, scale);
}

}  // namespace

Result<StatementFormat> statement_format_of(const std::string& path, const std::string& flag,
                                            const StatementProfile& profile) {
  const std::string name = !flag.empty() ? flag : profile.format;
  if (name == "csv") return StatementFormat::csv;
  if (name == "jsonl") return StatementFormat::jsonl;
  if (name == "camt053") return StatementFormat::camt053;
  if (!name.empty()) return Status::Invalid("unknown statement format \"" + excerpt(name, 20) + "\" (csv, jsonl, camt053)");
  if (ends_with(path, ".csv")) return StatementFormat::csv;
  if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson")) return StatementFormat::jsonl;
  if (ends_with(path, ".xml") || ends_with(path, ".camt") || ends_with(path, ".053")) return StatementFormat::camt053;
  return Status::Invalid("cannot tell the format of " + excerpt(path, 200) + " from its name: give --format csv|jsonl|camt053");
}

std::string_view statement_format_name(StatementFormat format) {
  switch (format) {
    case StatementFormat::csv: return "csv";
    case StatementFormat::jsonl: return "jsonl";
    case StatementFormat::camt053: return "camt053";
  }
  return "csv";
}

Result<int64_t> parse_statement_amount(std::string_view text, int scale, const StatementProfile& profile) {
  const std::string_view original = text;
  text = trim(text);
  if (text.empty()) return bad_amount(original, "empty");
  if (text.size() > kAmountTextMax) return bad_amount(original, "too long");
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const std::size_t decimal = text.find(profile.decimal_separator);
  std::string_view whole = text.substr(0, decimal);
  const std::string_view fraction = decimal == std::string_view::npos ? std::string_view{} : text.substr(decimal + 1);
  // Thousands separators: only between groups of three digits.
  std::string digits;
  std::size_t group = 0;
  bool grouped = false;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    const char c = whole[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      ++group;
      continue;
    }
    if (profile.thousands_separators.find(c) == std::string::npos) {
      return bad_amount(original, "expected digits, an optional sign and the decimal separator \"" +
                                      std::string(1, profile.decimal_separator) + "\"");
    }
    if (group == 0 || (grouped && group != 3) || group > 3) {
      return bad_amount(original, "thousands separators must separate groups of three digits");
    }
    grouped = true;
    group = 0;
  }
  if (grouped && group != 3) return bad_amount(original, "thousands separators must separate groups of three digits");
  for (char c : fraction) {
    if (c < '0' || c > '9') return bad_amount(original, "expected digits after the decimal separator");
  }
  std::string plain = digits;
  if (decimal != std::string_view::npos) plain += "." + std::string(fraction);
  auto value = parse_amount(plain, scale);
  if (!value.ok()) {
    const std::string& message = value.status().message();
    const std::size_t why = message.find("\": ");
    return bad_amount(original, why == std::string::npos ? message : message.substr(why + 3));
  }
  return negative ? -*value : *value;
}

Result<StatementDate> parse_statement_date(std::string_view text, const std::string& date_format) {
  if (date_format.empty()) {
    auto at = parse_timestamp(text, "date");
    if (!at.ok()) return at.status();
    return StatementDate{*at, text.size() == 10};
  }
  const auto bad = [&] {
    return Status::Invalid("invalid date \"" + excerpt(text, 40) + "\": expected the format \"" + date_format + "\"");
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  bool has_time = false;
  std::size_t at = 0;
  for (std::size_t i = 0; i < date_format.size(); ++i) {
    const char c = date_format[i];
    if (c != '%' || i + 1 == date_format.size()) {
      if (at >= text.size() || text[at] != c) return bad();
      ++at;
      continue;
    }
    bool ok = true;
    switch (date_format[++i]) {
      case 'Y': ok = read_number(text, at, 4, 4, year); break;
      case 'm': ok = read_number(text, at, 1, 2, month); break;
      case 'd': ok = read_number(text, at, 1, 2, day); break;
      case 'H': ok = read_number(text, at, 1, 2, hour), has_time = true; break;
      case 'M': ok = read_number(text, at, 2, 2, minute); break;
      case 'S': ok = read_number(text, at, 2, 2, second); break;
      case '%': ok = at < text.size() && text[at++] == '%'; break;
      default: return Status::Invalid("date_format \"" + date_format + "\": unknown field %" + date_format[i]);
    }
    if (!ok) return bad();
  }
  if (at != text.size()) return bad();
  char iso[40];
  if (has_time) {
    std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hour, minute, second);
  } else {
    std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", year, month, day);
  }
  auto checked = parse_timestamp(iso, "date");
  if (!checked.ok()) return bad();
  return StatementDate{*checked, !has_time};
}

Status read_statement_text(std::istream& in, StatementFormat format, const StatementProfile& profile, int scale,
                           const std::string& source, const StatementSink& sink) {
  LineReader reader(in);
  std::string text;
  std::optional<CsvLayout> layout;
  const auto at = [&](const Status& s) {
    return Status(s.code(), source + ":" + std::to_string(reader.line_number()) + ": " + s.message());
  };
  for (;;) {
    const LineReader::Next next = reader.next(text);
    if (next == LineReader::Next::end) break;
    if (next == LineReader::Next::too_long) {
      return at(Status::Invalid("line longer than " + std::to_string(kImportLineBytesMax) + " bytes"));
    }
    if (!is_valid_utf8(text)) return at(Status::Invalid("not valid UTF-8 (save the statement as UTF-8)"));
    if (is_blank_line(text)) continue;
    Result<StatementLine> line = Status::Invalid("unreachable");
    if (format == StatementFormat::csv) {
      if (!layout) {
        auto parsed = csv_layout(text, profile);
        if (!parsed.ok()) return at(parsed.status());
        layout = *parsed;
        continue;
      }
      line = csv_line(text, *layout, profile, scale);
    } else {
      line = jsonl_line(text, profile, scale);
    }
    if (!line.ok()) return at(line.status());
    line->line = reader.line_number();
    if (Status s = sink(*line); !s.ok()) return s;
  }
  if (format == StatementFormat::csv && !layout) return Status::Invalid(source + ": empty file: expected a header line");
  return Status::Ok();
}

Status read_statement_file(const std::string& path, StatementFormat format, const StatementProfile& profile,
                           int scale, const StatementSink& sink) {
  if (format == StatementFormat::camt053) return read_camt053(path, scale, sink);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read statement file " + excerpt(path, 200));
  return read_statement_text(in, format, profile, scale, path, sink);
}

Result<std::string> file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read statement file " + excerpt(path, 200));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Internal("SHA-256 is not available");
  }
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return Status::Invalid("cannot read statement file " + excerpt(path, 200));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace wallet
