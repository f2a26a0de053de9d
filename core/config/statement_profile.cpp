#include <set>

#include "core/config/statement_profile_toml.hpp"
#include "core/domain/validate.hpp"

namespace wallet {

namespace {

const std::set<std::string> kProfileKeys = {
    "format",       "delimiter",     "date",          "amount",      "reference",         "description",
    "currency",     "direction",     "debit_values",  "credit_values", "negative_means",  "date_format",
    "decimal_separator", "thousands_separators"};

class ProfileReader {
 public:
  ProfileReader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  Status check_keys() const {
    for (const auto& [key, unused] : table_) {
      const std::string name(key.str());
      if (kProfileKeys.count(name) == 0) return Status::Invalid(where_ + ": unknown key \"" + excerpt(name, 60) + "\"");
    }
    return Status::Ok();
  }

  // A non-empty string of at most kStatementProfileTextMax bytes; `set`
  // says whether the key was there.
  Status text(const char* key, std::string& out, bool* set = nullptr) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    const auto value = node->value<std::string>();
    if (!node->is_string() || !value || value->empty() || value->size() > kStatementProfileTextMax ||
        !is_valid_utf8(*value)) {
      return wrong(key, "a non-empty string of at most " + std::to_string(kStatementProfileTextMax) + " bytes");
    }
    out = *value;
    if (set != nullptr) *set = true;
    return Status::Ok();
  }

  Status character(const char* key, char& out) const {
    std::string value;
    if (Status s = text(key, value); !s.ok()) return s;
    if (value.empty()) return Status::Ok();
    if (value.size() != 1 || value[0] == '"' || value[0] == '\n' || value[0] == '\r') {
      return wrong(key, "one ASCII character other than a quote or a line break");
    }
    out = value[0];
    return Status::Ok();
  }

  Status strings(const char* key, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    const auto* array = node->as_array();
    if (array == nullptr || array->empty() || array->size() > 20) return wrong(key, "an array of 1 to 20 strings");
    std::vector<std::string> values;
    for (const auto& element : *array) {
      auto value = element.value<std::string>();
      if (!element.is_string() || !value || value->empty() || value->size() > kStatementProfileTextMax) {
        return wrong(key, "an array of 1 to 20 non-empty strings");
      }
      values.push_back(*value);
    }
    out = std::move(values);
    return Status::Ok();
  }

  Status wrong(const char* key, const std::string& expected) const {
    return Status::Invalid(where_ + "." + key + " must be " + expected);
  }
  const std::string& where() const { return where_; }

 private:
  const toml::table& table_;
  std::string where_;
};

Status read_profile(const toml::table& table, const std::string& where, StatementProfile& p) {
  ProfileReader r(table, where);
  std::string negative_means;
  for (Status s : {r.check_keys(), r.text("format", p.format), r.character("delimiter", p.delimiter),
                   r.text("date", p.date), r.text("amount", p.amount), r.text("reference", p.reference),
                   r.text("description", p.description, &p.description_required),
                   r.text("currency", p.currency, &p.currency_required), r.text("direction", p.direction),
                   r.strings("debit_values", p.debit_values), r.strings("credit_values", p.credit_values),
                   r.text("negative_means", negative_means), r.text("date_format", p.date_format),
                   r.character("decimal_separator", p.decimal_separator),
                   r.text("thousands_separators", p.thousands_separators)}) {
    if (!s.ok()) return s;
  }
  if (!p.format.empty() && p.format != "csv" && p.format != "jsonl") return r.wrong("format", "\"csv\" or \"jsonl\"");
  if (!negative_means.empty() && negative_means != "out" && negative_means != "in") {
    return r.wrong("negative_means", "\"out\" or \"in\"");
  }
  p.negative_means_in = negative_means == "in";
  if (p.decimal_separator != '.' && p.decimal_separator != ',') return r.wrong("decimal_separator", "\".\" or \",\"");
  for (char c : p.thousands_separators) {
    if (c == p.decimal_separator || (c >= '0' && c <= '9') || c == '-' || c == '+') {
      return r.wrong("thousands_separators", "characters other than digits, signs and the decimal separator");
    }
  }
  if (!p.date_format.empty() && p.date_format.find("%Y") == std::string::npos) {
    return r.wrong("date_format", "a format with %Y, %m and %d, like \"%d.%m.%Y\"");
  }
  for (const auto& debit : p.debit_values) {
    for (const auto& credit : p.credit_values) {
      if (debit == credit) return Status::Invalid(where + ": \"" + excerpt(debit, 40) + "\" is both a debit and a credit value");
    }
  }
  return Status::Ok();
}

}  // namespace

Status read_statement_profiles(const toml::table& profiles_table, const std::string& source,
                               std::map<std::string, StatementProfile>& profiles) {
  if (profiles_table.size() > kStatementProfilesMax) {
    return Status::Invalid(source + ": at most " + std::to_string(kStatementProfilesMax) + " statement profiles");
  }
  for (const auto& [key, node] : profiles_table) {
    const std::string name(key.str());
    const std::string where = source + ": statement.profiles." + excerpt(name, 60);
    if (Status s = validate_user_id(name); !s.ok() || name[0] == '@') {
      return Status::Invalid(where + ": a profile name is 1-64 characters of [A-Za-z0-9._:-]");
    }
    const auto* table = node.as_table();
    if (table == nullptr) return Status::Invalid(where + " must be a table");
    StatementProfile profile;
    profile.name = name;
    if (Status s = read_profile(*table, where, profile); !s.ok()) return s;
    profiles[name] = std::move(profile);
  }
  return Status::Ok();
}

}  // namespace wallet
