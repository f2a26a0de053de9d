// The option table (core/config/options.hpp) against the programs and the
// man pages: every flag, environment variable and file key of the table is
// documented, and every option, variable and key the man pages name exists.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cli/app.hpp"
#include "core/config/options.hpp"

using namespace wallet;

namespace {

// A man page as plain text: roff's \- as -, font escapes removed.
std::string man_text(const std::string& name) {
  std::ifstream file(std::string(WALLET_SOURCE_DIR) + "/man/" + name);
  REQUIRE_MESSAGE(file.good(), "cannot read man/" << name);
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string text = std::regex_replace(buffer.str(), std::regex(R"(\\-)"), "-");
  return std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
}

std::set<std::string> matches(const std::string& text, const std::string& pattern, int group = 1) {
  std::set<std::string> found;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    found.insert((*it)[group].str());
  }
  return found;
}

std::set<std::string> long_options_in(const std::string& text) {
  return matches(text, R"((^|[^A-Za-z0-9-])(--[a-z][a-z-]*[a-z]))", 2);
}

// The long names ("--database") of a CLI11 flag list ("-d,--database").
std::set<std::string> long_names(std::string_view flag) {
  std::set<std::string> names;
  std::string text(flag);
  std::stringstream parts(text);
  for (std::string part; std::getline(parts, part, ',');) {
    if (part.rfind("--", 0) == 0) names.insert(part);
  }
  return names;
}

void collect_options(const CLI::App& app, std::set<std::string>& out) {
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) out.insert("--" + name);
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) collect_options(*sub, out);
}

std::set<std::string> table_flags(Program program) {
  std::set<std::string> flags = {"--help", "--version"};
  for (const OptionSpec& option : option_table()) {
    if ((option.programs & program) == 0) continue;
    for (const auto& name : long_names(option.flag)) flags.insert(name);
  }
  return flags;
}

std::string difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string missing;
  for (const auto& x : a) {
    if (b.count(x) == 0) missing += (missing.empty() ? "" : " ") + x;
  }
  return missing;
}

}  // namespace

TEST_CASE("walletctl(1) documents every option of walletctl, and names no other") {
  cli::CommandLine line;
  std::set<std::string> program;
  collect_options(line.app, program);
  for (const auto& flag : table_flags(kWalletctl)) CHECK_MESSAGE(program.count(flag) == 1, flag);
  const auto documented = long_options_in(man_text("walletctl.1"));
  CHECK_MESSAGE(difference(program, documented).empty(), "undocumented: " << difference(program, documented));
  CHECK_MESSAGE(difference(documented, program).empty(), "no such option: " << difference(documented, program));
  CHECK(program.size() > 30);
}

TEST_CASE("walletd(8) documents every flag of walletd in the option table, and names no other") {
  const auto flags = table_flags(kWalletd);
  const auto documented = long_options_in(man_text("walletd.8"));
  CHECK_MESSAGE(difference(flags, documented).empty(), "undocumented: " << difference(flags, documented));
  CHECK_MESSAGE(difference(documented, flags).empty(), "no such option: " << difference(documented, flags));
  CHECK(flags.count("--read-database") == 1);
}

TEST_CASE("walletctl.toml(5) documents every file key of the option table, and names no other") {
  std::set<std::string> keys;
  for (const OptionSpec& option : option_table()) {
    if (option.in_file) keys.insert(std::string(option.key));
  }
  const std::string text = man_text("walletctl.toml.5");
  const std::string section = text.substr(text.find(".SH KEYS"), text.find(".SH EXAMPLE") - text.find(".SH KEYS"));
  std::set<std::string> documented;
  for (const auto& entry : matches(section, R"(\.TP\n\.B ([^\n]+))")) {
    const auto tables = matches(entry, R"(\[([a-z_]+)\] ([a-z_]+))", 0);
    if (tables.empty()) documented.insert(entry);
    for (const auto& key : tables) documented.insert(std::regex_replace(key, std::regex(R"(\[([a-z_]+)\] )"), "$1."));
  }
  CHECK_MESSAGE(difference(keys, documented).empty(), "undocumented: " << difference(keys, documented));
  CHECK_MESSAGE(difference(documented, keys).empty(), "no such key: " << difference(documented, keys));
  // The flags it names exist, and so do the [table] keys walletd(8) names.
  const auto flags = table_flags(Program(kWalletctl | kWalletd));
  const auto named = long_options_in(text);
  CHECK_MESSAGE(difference(named, flags).empty(), "no such option: " << difference(named, flags));
  for (const auto& key : matches(man_text("walletd.8"), R"(\[([a-z_]+)\] ([a-z_]+))", 0)) {
    CHECK_MESSAGE(keys.count(std::regex_replace(key, std::regex(R"(\[([a-z_]+)\] )"), "$1.")) == 1, key);
  }
}

TEST_CASE("every environment variable of the table is in walletctl(1), and the man pages name no other") {
  std::set<std::string> variables;
  for (const OptionSpec& option : option_table()) {
    if (!option.environment.empty()) variables.insert(std::string(option.environment));
  }
  const std::string walletctl = man_text("walletctl.1");
  const std::string environment = walletctl.substr(walletctl.find(".SH ENVIRONMENT"));
  const auto documented = matches(environment.substr(0, environment.find("\n.SH ")), R"((WALLETCTL_[A-Z_]+))");
  CHECK_MESSAGE(difference(variables, documented).empty(), "undocumented: " << difference(variables, documented));
  for (const auto& page : {"walletctl.1", "walletd.8", "walletctl.toml.5"}) {
    const auto named = matches(man_text(page), R"((WALLETCTL_[A-Z_]+))");
    CHECK_MESSAGE(difference(named, variables).empty(), page << " names " << difference(named, variables));
  }
}

TEST_CASE("option table rows are well formed") {
  std::set<std::string_view> keys;
  for (const OptionSpec& option : option_table()) {
    CAPTURE(option.key);
    CHECK(keys.insert(option.key).second);
    CHECK(option.programs != 0);
    CHECK_FALSE(option.help.empty());
    CHECK((!option.flag.empty() || !option.environment.empty() || option.in_file));
    const bool list = std::holds_alternative<std::vector<std::string>& (*)(Config&)>(option.field);
    CHECK_FALSE((list && (!option.flag.empty() || !option.environment.empty())));  // lists: file only
    const bool table = std::holds_alternative<std::map<std::string, std::string>& (*)(Config&)>(option.field) ||
                       std::holds_alternative<std::map<std::string, StatementProfile>& (*)(Config&)>(option.field);
    CHECK_FALSE((table && (!option.flag.empty() || !option.environment.empty())));  // tables: file only
    if (!option.choices.empty()) {
      // The default is one of the choices (or empty: not set).
      const std::string fallback = default_text(option);
      CHECK((fallback.empty() ||
             std::find(option.choices.begin(), option.choices.end(), fallback) != option.choices.end()));
    }
    if (option.low != 0 || option.high != 0) CHECK_FALSE(bound_text(option).empty());
  }
  CHECK(find_option("daemon.threads")->high == 256);
  CHECK(default_text(*find_option("holds.timeout")) == "1d");
  CHECK(default_text(*find_option("prepared_statements")) == "true");
}

TEST_CASE("a flag and an environment variable go through the same checks as the file") {
  Config config;
  const OptionSpec& output = *find_option("output");
  CHECK(set_option_text(output, "json", "--output", config).ok());
  CHECK(config.output == "json");
  Status bad = set_option_text(output, "yaml", "--output", config);
  CHECK(bad.code() == Code::invalid);
  CHECK(bad.message() == "--output must be one of table, json, jsonl, csv, not \"yaml\"");
  CHECK(config.output == "json");  // unchanged
  const OptionSpec& threads = *find_option("daemon.threads");
  CHECK(set_option_text(threads, "256", "X", config).ok());
  CHECK_FALSE(set_option_text(threads, "257", "X", config).ok());
  CHECK_FALSE(set_option_text(threads, "4x", "X", config).ok());
  const OptionSpec& holds = *find_option("holds.timeout");
  CHECK(set_option_text(holds, "1s", "X", config).ok());
  CHECK(set_option_text(holds, "999ms", "X", config).message() == "X must be at least 1s");
}
