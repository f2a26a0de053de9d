// The one table of walletctl's and walletd's settings (pgbackrest style):
// for each, its command-line flag, environment variable, key in the TOML
// file (walletctl.toml(5)), default, bound and help. load_config() reads
// the file and the environment through it; cli/options.hpp registers its
// flags with CLI11 for both programs; tests/unit/options_test.cpp holds the
// man pages to it. Precedence: flag > environment > file > default.
//
// Defaults live once, in Config's member initializers (config.hpp); the
// table shows them through default_text().
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/config/config.hpp"

namespace wallet {

// The programs an option belongs to (a bit set).
enum Program : unsigned { kWalletctl = 1, kWalletd = 2, kBothPrograms = 3 };

// Where an option's value is stored in a Config.
using OptionField = std::variant<std::string& (*)(Config&), bool& (*)(Config&), int& (*)(Config&),
                                 Milliseconds& (*)(Config&), std::vector<std::string>& (*)(Config&),
                                 std::map<std::string, std::string>& (*)(Config&),
                                 std::map<std::string, StatementProfile>& (*)(Config&)>;

struct OptionSpec {
  std::string_view key;          // "daemon.threads": its name in Config::sources and messages
  std::string_view flag;         // CLI11 names ("-d,--database"); empty: no flag
  std::string_view environment;  // "WALLETCTL_DATABASE"; empty: none
  bool in_file;                  // the TOML file may set `key`
  unsigned programs;             // Program bits
  OptionField field;
  // Integers: the range. Durations: the range in milliseconds. 0, 0: unbounded.
  int64_t low = 0;
  int64_t high = 0;
  std::vector<std::string_view> choices = {};  // text: the values allowed; empty: any
  // Booleans with a flag: the value the flag sets ("--no-prepared-statements" sets false).
  bool flag_sets = true;
  std::string_view help = "";
};

std::span<const OptionSpec> option_table();
const OptionSpec* find_option(std::string_view key);

// The default of an option as text ("24h", "8", "true", ""), from Config{}.
std::string default_text(const OptionSpec& option);
// The bound as text for messages and help ("1 to 256", "at least 1s"); empty when unbounded.
std::string bound_text(const OptionSpec& option);

// Sets the option from text (a flag's or an environment variable's value),
// checking type, choices and bound; `source` names it in the message
// ("WALLETCTL_PREPARED_STATEMENTS", "--database").
Status set_option_text(const OptionSpec& option, std::string_view text, const std::string& source, Config& config);

}  // namespace wallet
