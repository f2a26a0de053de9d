#include "core/config/config.hpp"

#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <algorithm>
#include <cassert>
#include <optional>
#include <toml++/toml.h>

#include "core/config/options.hpp"
#include "core/config/statement_profile_toml.hpp"
#include "core/domain/validate.hpp"

namespace wallet {

namespace {

// Longest toml++ error description kept in a message.
constexpr std::size_t kTomlErrorShownMax = 200;
// Longest variable name of [settlement] env: real names are short; a longer
// one is a mistake (or garbage) rather than something a command reads.
constexpr std::size_t kEnvironmentNameBytesMax = 128;
// Longest part of a refused environment value quoted back.
constexpr std::size_t kEnvironmentValueShownMax = 40;

class FileReader {
 public:
  FileReader(const toml::table& root, const std::string& source, Config& config)
      : root_(root), source_(source), config_(config) {}

  Status check_keys() {
    for (const auto& [key, node] : root_) {
      const std::string name(key.str());
      if (const auto* table = node.as_table()) {
        for (const auto& [inner, unused] : *table) {
          Status s = known(name + "." + std::string(inner.str()));
          if (!s.ok()) return s;
        }
      } else {
        Status s = known(name);
        if (!s.ok()) return s;
      }
    }
    return Status::Ok();
  }

  // Reads one option's key, if present, checking type, choices and bound.
  Status read(const OptionSpec& option) {
    const std::string key(option.key);
    auto node = root_.at_path(key);
    if (!node) return Status::Ok();
    Status s = key == "daemon.tokens"
                   ? tokens(option, key, node, config_.daemon.tokens, config_.daemon.named_tokens)
                   : std::visit([&](auto field) { return assign(option, key, node, field(config_)); }, option.field);
    if (s.ok()) config_.sources[key] = source_;
    return s;
  }

 private:
  Status known(const std::string& key) {
    const OptionSpec* option = find_option(key);
    if (option == nullptr || !option->in_file) return Status::Invalid(source_ + ": unknown key \"" + key + "\"");
    return Status::Ok();
  }
  Status wrong_type(const std::string& key, const std::string& expected) {
    return Status::Invalid(source_ + ": " + key + " must be " + expected);
  }

  Status assign(const OptionSpec& option, const std::string& key, toml::node_view<const toml::node> node,
                std::string& out) {
    auto value = node.value<std::string>();
    if (!node.is_string() || !value) return wrong_type(key, "a string");
    if (!option.choices.empty() && std::find(option.choices.begin(), option.choices.end(), *value) == option.choices.end()) {
      return wrong_type(key, bound_text(option));
    }
    out = *value;
    return Status::Ok();
  }
  Status assign(const OptionSpec&, const std::string& key, toml::node_view<const toml::node> node, bool& out) {
    auto value = node.value<bool>();
    if (!node.is_boolean() || !value) return wrong_type(key, "true or false");
    out = *value;
    return Status::Ok();
  }
  Status assign(const OptionSpec& option, const std::string& key, toml::node_view<const toml::node> node, int& out) {
    // Only an integer node is read as one: toml++'s float-to-integer
    // conversion of an out-of-range float is undefined behaviour (found by
    // fuzz_config: `daemon.threads = 222222222222222222222.2`).
    if (!node.is_integer()) return wrong_type(key, bound_text(option));
    auto value = node.value<int64_t>();
    if (!value || *value < option.low || *value > option.high) {
      return wrong_type(key, bound_text(option));
    }
    out = static_cast<int>(*value);
    return Status::Ok();
  }
  Status assign(const OptionSpec& option, const std::string& key, toml::node_view<const toml::node> node,
                Milliseconds& out) {
    if (!node.is_string()) return wrong_type(key, "a duration string like \"30s\"");
    auto parsed = parse_duration(*node.value<std::string>());
    if (!parsed.ok()) return Status::Invalid(source_ + ": " + key + ": " + parsed.status().message());
    if (parsed->count() < option.low) return wrong_type(key, bound_text(option));
    out = *parsed;
    return Status::Ok();
  }
  Status assign(const OptionSpec&, const std::string& key, toml::node_view<const toml::node> node,
                std::vector<std::string>& out) {
    const auto* array = node.as_array();
    if (array == nullptr) return wrong_type(key, "an array of strings");
    std::vector<std::string> values;
    for (const auto& element : *array) {
      auto value = element.value<std::string>();
      if (!value) return wrong_type(key, "an array of strings");
      values.push_back(*value);
    }
    out = std::move(values);
    return Status::Ok();
  }

  Status assign(const OptionSpec&, const std::string& key, toml::node_view<const toml::node> node,
                std::map<std::string, std::string>& out) {
    return environment(key, node, out);
  }

  // [statement.profiles.NAME] tables (core/config/statement_profile.hpp).
  Status assign(const OptionSpec&, const std::string& key, toml::node_view<const toml::node> node,
                std::map<std::string, StatementProfile>& out) {
    const auto* table = node.as_table();
    if (table == nullptr) return wrong_type(key, "a table of profiles");
    std::map<std::string, StatementProfile> profiles;
    if (Status s = read_statement_profiles(*table, source_, profiles); !s.ok()) return s;
    out = std::move(profiles);
    return Status::Ok();
  }

  // A table of environment variables: NAME = "value" (see Config::settlement_env).
  Status environment(const std::string& key, toml::node_view<const toml::node> node,
                     std::map<std::string, std::string>& out) {
    const auto* table = node.as_table();
    if (table == nullptr) return wrong_type(key, "a table of NAME = \"value\" strings");
    if (table->size() > kSettlementEnvEntriesMax) {
      return wrong_type(key, "a table of at most " + std::to_string(kSettlementEnvEntriesMax) + " entries");
    }
    std::map<std::string, std::string> values;
    for (const auto& [name_key, element] : *table) {
      const std::string name(name_key.str());
      if (Status s = check_variable_name(key, name); !s.ok()) return s;
      auto value = element.value<std::string>();
      if (!value || value->find('\0') != std::string::npos) {
        return wrong_type(key + "." + name, "a string without NUL characters");
      }
      values[name] = *value;
    }
    out = std::move(values);
    return Status::Ok();
  }

  // `[daemon] tokens`: the deprecated array of plain tokens, or an array
  // of tables {name, sha256, scopes} ([[daemon.tokens]]).
  Status tokens(const OptionSpec& option, const std::string& key, toml::node_view<const toml::node> node,
                std::vector<std::string>& plain, std::vector<DaemonToken>& named) {
    const auto* array = node.as_array();
    if (array == nullptr) return wrong_type(key, "an array of strings or of tables {name, sha256, scopes}");
    if (array->empty() || !array->front().is_table()) return assign(option, key, node, plain);
    std::vector<DaemonToken> tokens;
    for (const auto& element : *array) {
      const auto* table = element.as_table();
      if (table == nullptr) return wrong_type(key, "an array of strings or of tables {name, sha256, scopes}");
      auto token = token_of(*table, tokens.size() + 1);
      if (!token.ok()) return token.status();
      for (const auto& other : tokens) {
        if (other.name == token->name || other.sha256 == token->sha256) {
          return Status::Invalid(source_ + ": daemon.tokens: token \"" + token->name + "\" repeats the name or hash of \"" +
                                 other.name + "\"");
        }
      }
      tokens.push_back(std::move(*token));
    }
    named = std::move(tokens);
    return Status::Ok();
  }

  Result<DaemonToken> token_of(const toml::table& table, std::size_t position) {
    const std::string where = source_ + ": daemon.tokens entry " + std::to_string(position);
    for (const auto& [inner, unused] : table) {
      const std::string name(inner.str());
      if (name != "name" && name != "sha256" && name != "scopes") {
        return Status::Invalid(where + ": unknown key \"" + name + "\" (name, sha256, scopes)");
      }
    }
    DaemonToken token;
    token.name = table["name"].value_or(std::string());
    static const std::regex kName("[A-Za-z0-9._-]{1,64}");
    if (!std::regex_match(token.name, kName)) {
      return Status::Invalid(where + ": name must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
    }
    token.sha256 = table["sha256"].value_or(std::string());
    for (auto& c : token.sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static const std::regex kHex("[0-9a-f]{64}");
    if (!std::regex_match(token.sha256, kHex)) {
      return Status::Invalid(where + " (" + token.name +
                             "): sha256 must be the 64 hex digits of the token's SHA-256 (walletd hash-token)");
    }
    const auto* scopes = table["scopes"].as_array();
    if (scopes == nullptr || scopes->empty()) {
      return Status::Invalid(where + " (" + token.name + "): scopes must be a non-empty array of read, move, operate");
    }
    for (const auto& element : *scopes) {
      const auto scope = element.value<std::string>();
      if (!scope || std::find(kTokenScopes.begin(), kTokenScopes.end(), *scope) == kTokenScopes.end()) {
        return Status::Invalid(where + " (" + token.name + "): scopes must be among read, move, operate");
      }
      if (std::find(token.scopes.begin(), token.scopes.end(), *scope) == token.scopes.end()) {
        token.scopes.push_back(*scope);
      }
    }
    return token;
  }

  Status check_variable_name(const std::string& key, const std::string& name) {
    bool good = !name.empty() && name.size() <= kEnvironmentNameBytesMax && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name) good = good && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_');
    if (!good) {
      return Status::Invalid(source_ + ": " + key + ": \"" + excerpt(name, kEnvironmentValueShownMax) +
                             "\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (name.rfind("PG", 0) == 0 || name.rfind("WALLETCTL_", 0) == 0) {
      return Status::Invalid(source_ + ": " + key + ": " + name +
                             " is refused: PG* and WALLETCTL_* variables carry the ledger's own database "
                             "settings and secrets, which the settlement command must not get");
    }
    return Status::Ok();
  }
  const toml::table& root_;
  const std::string& source_;
  Config& config_;
};

std::optional<std::string> default_file(const EnvironmentLookup& environment) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  if (const char* home = environment("HOME"); home != nullptr && *home != '\0') {
    fs::path user = fs::path(home) / ".config/walletctl/config.toml";
    if (fs::exists(user, ignored)) return user.string();
  }
  const fs::path system = "/etc/walletctl/walletctl.toml";
  if (fs::exists(system, ignored)) return system.string();
  return std::nullopt;
}

// The flag's long name ("--database") for messages.
std::string long_flag(const OptionSpec& option) {
  const auto at = option.flag.rfind("--");
  return std::string(option.flag.substr(at == std::string_view::npos ? 0 : at));
}

// Environment, then flags, over what the file said (flags win). An empty
// variable counts as unset.
Status apply_overrides(const ConfigFlags& flags, const EnvironmentLookup& environment, Config& config) {
  for (const OptionSpec& option : option_table()) {
    if (option.environment.empty() || option.key == "config") continue;
    const char* value = environment(std::string(option.environment).c_str());
    if (value == nullptr || *value == '\0') continue;
    if (Status s = set_option_text(option, value, std::string(option.environment), config); !s.ok()) return s;
    config.sources[std::string(option.key)] = "environment";
  }
  for (const auto& [key, value] : flags) {
    const OptionSpec* option = find_option(key);
    assert(option != nullptr && !option->flag.empty() && "flags come from the option table");
    if (key == "config") continue;
    if (Status s = set_option_text(*option, value, long_flag(*option), config); !s.ok()) return s;
    config.sources[key] = "flag";
  }
  return Status::Ok();
}

}  // namespace

Status apply_config_text(std::string_view text, const std::string& source, Config& config) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    // toml++ quotes the character it saw, control characters included.
    return Status::Invalid(source + ":" + std::to_string(where.line) + ": " +
                           excerpt(error.description(), kTomlErrorShownMax));
  }
  FileReader reader(root, source, config);
  if (Status s = reader.check_keys(); !s.ok()) return s;
  for (const OptionSpec& option : option_table()) {
    if (!option.in_file) continue;
    if (Status s = reader.read(option); !s.ok()) return s;
  }
  if (config.daemon.tls_cert.empty() != config.daemon.tls_key.empty()) {
    return Status::Invalid(source + ": daemon.tls_cert and daemon.tls_key go together");
  }
  return Status::Ok();
}

Result<Config> load_config(const ConfigFlags& flags, const EnvironmentLookup& environment) {
  Config config;
  std::optional<std::string> file;
  std::string file_source = "default";
  if (auto flag = flags.find("config"); flag != flags.end()) {
    file = flag->second;
    file_source = "flag";
  } else if (const char* env = environment("WALLETCTL_CONFIG"); env != nullptr && *env != '\0') {
    file = env;
    file_source = "environment";
  } else {
    file = default_file(environment);
  }
  if (file) {
    std::error_code ignored;
    if (!std::filesystem::is_regular_file(*file, ignored)) {
      return Status::Invalid("config file " + *file + " not found or not a regular file");
    }
    toml::parse_result parsed;
    std::string text;
    {
      std::FILE* handle = std::fopen(file->c_str(), "rb");
      if (handle == nullptr) return Status::Invalid("cannot read config file " + *file);
      char buffer[4096];
      std::size_t n = 0;
      constexpr std::size_t kConfigBytesMax = 1 << 20;  // a config file, not a data file
      while ((n = std::fread(buffer, 1, sizeof buffer, handle)) > 0 && text.size() < kConfigBytesMax) {
        text.append(buffer, n);
      }
      std::fclose(handle);
      if (text.size() >= kConfigBytesMax) return Status::Invalid("config file " + *file + " is too large");
    }
    Status s = apply_config_text(text, *file, config);
    if (!s.ok()) return s;
    config.file = *file;
    config.sources["config"] = file_source;
  }
  if (Status s = apply_overrides(flags, environment, config); !s.ok()) return s;
  for (const OptionSpec& option : option_table()) config.sources.emplace(std::string(option.key), "default");
  return config;
}

}  // namespace wallet
