// walletctl's command line: global options, one registration function per
// command group, and run_cli(), which parses, runs and renders. Thin: the
// rules live in core/.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "cli/output.hpp"
#include "core/config/config.hpp"
#include "core/ledger/ledger.hpp"
#include "core/store/store.hpp"
#include "reconcile/job_metrics.hpp"

namespace wallet::cli {

// Everything a command needs once the command line is parsed.
struct Context {
  Format format = Format::table;
  std::string actor;
  Config config;
  std::unique_ptr<Store> store;
  std::unique_ptr<Ledger> ledger;
  bool quiet = false;

  // Where history and reconcile read: a Store and Ledger on read_database
  // (opened at first use) when one is configured, else the main ones.
  Store& read_store();
  Ledger& read_ledger();

 private:
  std::unique_ptr<Store> read_store_;
  std::unique_ptr<Ledger> read_ledger_;
};

// What a command returns: an Output, or a failure (with optional extra
// fields for the JSON error object).
struct CommandResult {
  Status status;
  Output output;
  nlohmann::json error_extra;
  std::vector<jobs::Sample> metrics;  // what the job found, for --metrics-file

  CommandResult(Output o) : output(std::move(o)) {}  // NOLINT: implicit by design
  CommandResult(Status s, nlohmann::json extra = nullptr)  // NOLINT
      : status(std::move(s)), error_extra(std::move(extra)) {}
};

using Action = std::function<CommandResult(Context&)>;
using Commands = std::vector<std::pair<CLI::App*, Action>>;

void register_admin_commands(CLI::App& app, Commands& commands);
void register_money_commands(CLI::App& app, Commands& commands);
void register_query_commands(CLI::App& app, Commands& commands);
void register_reconcile_commands(CLI::App& app, Commands& commands);
void register_digest_commands(CLI::App& app, Commands& commands);
// `reconcile statement`, a subcommand of reconcile (cmd_statement.cpp).
void register_statement_command(CLI::App& reconcile, Commands& commands);
void register_import_commands(CLI::App& app, Commands& commands);
void register_bench_commands(CLI::App& app, Commands& commands);

// walletctl's whole command line: the global flags of the option table and
// every command (exposed so that tests can walk it).
struct CommandLine {
  CommandLine();
  CLI::App app;
  OptionFlags global;
  Commands commands;
};

// Runs walletctl with these arguments; returns the process exit code.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
            const EnvironmentLookup& environment);

// nullopt for empty text: an optional flag that was not given.
inline std::optional<std::string> optional_of(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

// Turns a Result into a CommandResult with `make` applied to the value.
template <typename T, typename F>
CommandResult output_of(Result<T> result, F make) {
  if (!result.ok()) return CommandResult(result.status());
  return CommandResult(make(result.value()));
}

}  // namespace wallet::cli
