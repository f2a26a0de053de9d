// walletctl bench.
#include "cli/app.hpp"
#include "core/bulk/bench.hpp"

namespace wallet::cli {

void register_bench_commands(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<BenchOptions>();
  auto* command = app.add_subcommand(
      "bench", "load generator: concurrent transfers between bench wallets (--hot: deposits from @treasury)");
  command->add_option("--clients", options->clients, "concurrent clients, each with its own connection (default 8)")
      ->check(CLI::Range(1, kBenchClientsMax));
  add_duration_option(command, "--duration", [options](Milliseconds duration) { options->duration = duration; },
                      "how long to run, e.g. 30s (default 10s)");
  command->add_option("--wallets", options->wallets, "bench wallets to spread the load over (default 1000)")
      ->check(CLI::Range(int64_t{2}, kBenchWalletsMax));
  command->add_flag("--hot", options->hot, "deposits from the asset's @treasury instead of transfers");
  command->add_option("--asset", options->asset, "asset of the bench wallets, created if missing (default BENCH0)");
  commands.emplace_back(command, [options](Context& c) -> CommandResult {
    BenchOptions o = *options;
    o.actor = c.actor;
    auto report = run_bench(c.config.database, c.config, o);
    if (!report.ok()) return CommandResult(report.status());
    if (report->ops == 0 && report->errors > 0) {
      return CommandResult(Status::Temporary("bench: every movement failed; first error: " + report->first_error));
    }
    Output output = single_output(to_json(*report), {"mode", "clients", "wallets", "ops", "refused", "errors", "tps",
                                                     "p50_ms", "p95_ms", "p99_ms", "max_ms", "elapsed_ms"});
    if (!report->first_error.empty()) output.notes.push_back("first error: " + report->first_error);
    return CommandResult(std::move(output));
  });
}

}  // namespace wallet::cli
