#include "cli/options.hpp"

namespace wallet::cli {

OptionFlags::OptionFlags(CLI::App& app, Program program) {
  for (const OptionSpec& option : option_table()) {
    if (option.flag.empty() || (option.programs & program) == 0) continue;
    auto entry = std::make_unique<Registered>();
    entry->option = &option;
    std::string help(option.help);
    const std::string fallback = default_text(option);
    const bool boolean = std::holds_alternative<bool& (*)(Config&)>(option.field);
    if (!boolean && !fallback.empty()) help += " (default: " + fallback + ")";
    if (boolean) {
      entry->cli_option = app.add_flag(std::string(option.flag), entry->set, help);
    } else {
      entry->cli_option = app.add_option(std::string(option.flag), entry->text, help);
      if (!option.choices.empty()) {
        entry->cli_option->check(CLI::IsMember(std::vector<std::string>(option.choices.begin(), option.choices.end())));
      }
    }
    registered_.push_back(std::move(entry));
  }
}

ConfigFlags OptionFlags::given() const {
  ConfigFlags flags;
  for (const auto& entry : registered_) {
    if (entry->cli_option->count() == 0) continue;
    const std::string key(entry->option->key);
    if (std::holds_alternative<bool& (*)(Config&)>(entry->option->field)) {
      flags[key] = entry->option->flag_sets ? "true" : "false";
    } else if (!entry->text.empty()) {  // an empty value leaves the setting to the environment or file
      flags[key] = entry->text;
    }
  }
  return flags;
}

const std::string* OptionFlags::text(std::string_view key) const {
  for (const auto& entry : registered_) {
    if (entry->option->key == key && entry->cli_option->count() > 0) return &entry->text;
  }
  return nullptr;
}

CLI::Option* add_duration_option(CLI::App* command, const std::string& name, std::function<void(Milliseconds)> set,
                                 const std::string& help) {
  return command->add_option_function<std::string>(
      name,
      [name, set = std::move(set)](const std::string& text) {
        auto parsed = parse_duration(text);
        if (!parsed.ok()) throw CLI::ValidationError(name, parsed.status().message());
        set(*parsed);
      },
      help);
}

std::string flag_of_field(std::string_view field) {
  std::string flag = "--" + std::string(field);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

}  // namespace wallet::cli
