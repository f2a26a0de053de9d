// Command-line registration shared by walletctl and walletd: the flags of
// the option table (core/config/options.hpp) and the duration flags of
// single commands. CLI11 stays out of core/.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/config/options.hpp"

namespace wallet::cli {

// Registers on `app` the flag of every option-table row that `program` has,
// with its help (and default, when it has one). After parsing, given()
// says which were given, for load_config().
class OptionFlags {
 public:
  OptionFlags(CLI::App& app, Program program);

  ConfigFlags given() const;
  // The text given for `key` ("-o json"), or nullptr.
  const std::string* text(std::string_view key) const;

 private:
  struct Registered {
    const OptionSpec* option;
    CLI::Option* cli_option;
    std::string text;
    bool set = false;
  };
  // Stable addresses: CLI11 writes into `text` and `set`.
  std::vector<std::unique_ptr<Registered>> registered_;
};

// Adds a flag taking a duration ("30s", "24h"); a malformed one is a usage
// error naming the flag.
CLI::Option* add_duration_option(CLI::App* command, const std::string& name,
                                 std::function<void(Milliseconds)> set, const std::string& help);

// How walletctl names an input field in a message: its flag ("--timeout").
std::string flag_of_field(std::string_view field);

}  // namespace wallet::cli
