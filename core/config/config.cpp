#include "core/config/config.hpp"

#include <filesystem>
#include <algorithm>
#include <cassert>
#include <optional>
#include <toml++/toml.h>

#include "core/config/options.hpp"
#include "core/domain/validate.hpp"

namespace wallet {

namespace {

// Longest toml++ error description kept in a message.
constexpr std::size_t kTomlErrorShownMax = 200;

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
    Status s = std::visit(
        [&](auto field) { return assign(option, key, node, field(config_)); }, option.field);
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
    auto value = node.value<int64_t>();
    if (!node.is_integer() || !value || *value < option.low || *value > option.high) {
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
