#include "core/config/config.hpp"

#include <filesystem>
#include <set>
#include <toml++/toml.h>

#include "core/config/statement_profile_toml.hpp"
#include "core/domain/validate.hpp"

namespace wallet {

namespace {

// Keys the file may contain, "table.key". Anything else is a typo.
const std::set<std::string> kKnownKeys = {
    "database",          "read_database",      "prepared_statements", "log.level",          "holds.timeout",
    "settlement.command", "settlement.timeout", "reconcile.stuck_after",
    "daemon.listen",      "daemon.threads",     "daemon.pool_size",
    "daemon.tokens",      "daemon.rate_limit_per_second", "daemon.body_bytes_max",
    "daemon.request_timeout", "daemon.worker_interval",
    "statement.profiles",  // its tables are read by read_statement_profiles
};

// Longest toml++ error description kept in a message.
constexpr std::size_t kTomlErrorShownMax = 200;
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

  Status text(const char* key, std::string& out) {
    auto node = root_.at_path(key);
    if (!node) return Status::Ok();
    auto value = node.value<std::string>();
    if (!value) return wrong_type(key, "a string");
    out = *value;
    config_.sources[key] = source_;
    return Status::Ok();
  }

  Status duration(const char* key, Milliseconds& out) {
    std::string value;
    auto node = root_.at_path(key);
    if (!node) return Status::Ok();
    if (!node.is_string()) return wrong_type(key, "a duration string like \"30s\"");
    auto parsed = parse_duration(*node.value<std::string>());
    if (!parsed.ok()) return Status::Invalid(source_ + ": " + key + ": " + parsed.status().message());
    out = *parsed;
    config_.sources[key] = source_;
    return Status::Ok();
  }

  Status boolean(const char* key, bool& out) {
    auto node = root_.at_path(key);
    if (!node) return Status::Ok();
    auto value = node.value<bool>();
    if (!node.is_boolean() || !value) return wrong_type(key, "true or false");
    out = *value;
    config_.sources[key] = source_;
    return Status::Ok();
  }

  Status integer(const char* key, int& out, int low, int high) {
    auto node = root_.at_path(key);
    if (!node) return Status::Ok();
    auto value = node.value<int64_t>();
    if (!node.is_integer() || !value || *value < low || *value > high) {
      return wrong_type(key, "an integer from " + std::to_string(low) + " to " + std::to_string(high));
    }
    out = static_cast<int>(*value);
    config_.sources[key] = source_;
    return Status::Ok();
  }

  Status strings(const char* key, std::vector<std::string>& out) {
    auto node = root_.at_path(key);
    if (!node) return Status::Ok();
    const auto* array = node.as_array();
    if (array == nullptr) return wrong_type(key, "an array of strings");
    std::vector<std::string> values;
    for (const auto& element : *array) {
      auto value = element.value<std::string>();
      if (!value) return wrong_type(key, "an array of strings");
      values.push_back(*value);
    }
    out = std::move(values);
    config_.sources[key] = source_;
    return Status::Ok();
  }

 private:
  Status known(const std::string& key) {
    if (kKnownKeys.count(key) == 0) return Status::Invalid(source_ + ": unknown key \"" + key + "\"");
    return Status::Ok();
  }
  Status wrong_type(const char* key, const std::string& expected) {
    return Status::Invalid(source_ + ": " + key + " must be " + expected);
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

// A text setting: a non-empty environment value over the file's, then the
// flag over both; records which source set it.
void override_text(const char* env, const std::optional<std::string>& flag, const char* key, std::string& value,
                   Config& config) {
  if (env != nullptr && *env != '\0') {
    value = env;
    config.sources[key] = "environment";
  }
  if (flag) {
    value = *flag;
    config.sources[key] = "flag";
  }
}

// Environment, then flags, over what the file said (flags win).
Status apply_overrides(const ConfigFlags& flags, const EnvironmentLookup& environment, Config& config) {
  override_text(environment("WALLETCTL_DATABASE"), flags.database, "database", config.database, config);
  override_text(environment("WALLETCTL_READ_DATABASE"), flags.read_database, "read_database", config.read_database,
                config);
  if (const char* env = environment("WALLETCTL_PREPARED_STATEMENTS"); env != nullptr && *env != '\0') {
    const std::string value = env;
    if (value == "on" || value == "true" || value == "1") {
      config.prepared_statements = true;
    } else if (value == "off" || value == "false" || value == "0") {
      config.prepared_statements = false;
    } else {
      return Status::Invalid("WALLETCTL_PREPARED_STATEMENTS must be on, off, true, false, 1 or 0, not \"" +
                             excerpt(value, kEnvironmentValueShownMax) + "\"");
    }
    config.sources["prepared_statements"] = "environment";
  }
  if (flags.prepared_statements) {
    config.prepared_statements = *flags.prepared_statements;
    config.sources["prepared_statements"] = "flag";
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
  for (Status s : {reader.check_keys(),
                   reader.text("database", config.database),
                   reader.text("read_database", config.read_database),
                   reader.boolean("prepared_statements", config.prepared_statements),
                   reader.text("log.level", config.log_level),
                   reader.duration("holds.timeout", config.holds_timeout),
                   reader.text("settlement.command", config.settlement_command),
                   reader.duration("settlement.timeout", config.settlement_timeout),
                   reader.duration("reconcile.stuck_after", config.reconcile_stuck_after),
                   reader.text("daemon.listen", config.daemon.listen),
                   reader.integer("daemon.threads", config.daemon.threads, 1, 256),
                   reader.integer("daemon.pool_size", config.daemon.pool_size, 1, 256),
                   reader.strings("daemon.tokens", config.daemon.tokens),
                   reader.integer("daemon.rate_limit_per_second", config.daemon.rate_limit_per_second, 1, 1'000'000),
                   reader.integer("daemon.body_bytes_max", config.daemon.body_bytes_max, 1024, 16 << 20),
                   reader.duration("daemon.request_timeout", config.daemon.request_timeout),
                   reader.duration("daemon.worker_interval", config.daemon.worker_interval)}) {
    if (!s.ok()) return s;
  }
  if (auto profiles = root.at_path("statement.profiles")) {
    const auto* table = profiles.as_table();
    if (table == nullptr) return Status::Invalid(source + ": statement.profiles must be a table of profiles");
    if (Status s = read_statement_profiles(*table, source, config.statement_profiles); !s.ok()) return s;
  }
  if (config.holds_timeout < Milliseconds{1000}) return Status::Invalid(source + ": holds.timeout must be at least 1s");
  if (config.settlement_timeout < Milliseconds{100}) {
    return Status::Invalid(source + ": settlement.timeout must be at least 100ms");
  }
  if (config.daemon.worker_interval < Milliseconds{100}) {
    return Status::Invalid(source + ": daemon.worker_interval must be at least 100ms");
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (kLevels.count(config.log_level) == 0) {
    return Status::Invalid(source + ": log.level must be one of trace, debug, info, warn, error, critical, off");
  }
  return Status::Ok();
}

Result<Config> load_config(const ConfigFlags& flags, const EnvironmentLookup& environment) {
  Config config;
  std::optional<std::string> file = flags.config_file;
  if (!file) {
    if (const char* env = environment("WALLETCTL_CONFIG"); env != nullptr && *env != '\0') file = env;
  }
  const bool explicit_file = file.has_value();
  if (!file) file = default_file(environment);
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
  }
  (void)explicit_file;
  if (Status s = apply_overrides(flags, environment, config); !s.ok()) return s;
  for (const char* key : {"database", "read_database", "prepared_statements", "log.level", "holds.timeout", "settlement.command",
                          "settlement.timeout", "reconcile.stuck_after"}) {
    config.sources.emplace(key, "default");
  }
  return config;
}

}  // namespace wallet
