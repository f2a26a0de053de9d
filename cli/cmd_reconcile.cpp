// walletctl reconcile, retry.
#include <unistd.h>

#include <cstdio>

#include "cli/app.hpp"
#include "reconcile/point_in_time.hpp"
#include "reconcile/reconcile.hpp"

namespace wallet::cli {

namespace {

// A one-line progress bar on stderr, only when stderr is a terminal.
std::function<void(int64_t, int64_t)> progress_bar(bool quiet) {
  if (quiet || ::isatty(STDERR_FILENO) == 0) return {};
  return [](int64_t done, int64_t total) {
    const int width = 30;
    const int filled = total > 0 ? static_cast<int>(done * width / total) : width;
    std::fprintf(stderr, "\rreconcile [%-*s] %lld/%lld wallets", width, std::string(filled, '#').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total));
    if (done >= total) std::fprintf(stderr, "\r%*s\r", width + 40, "");
  };
}

Output reconcile_output(const ReconcileReport& report) {
  std::vector<nlohmann::json> rows;
  for (const auto& d : report.drift) {
    nlohmann::json row = to_json(d);
    row["finding"] = "drift";
    rows.push_back(row);
  }
  for (const auto& s : report.stuck) {
    nlohmann::json row = to_json(s);
    row["finding"] = "stuck";
    row["check"] = "stuck";
    row["detail"] = s.reason + (s.last_error ? " (last error: " + *s.last_error + ")" : "");
    rows.push_back(row);
  }
  Output output = list_output(rows, {"finding", "check", "wallet", "user", "asset", "transaction", "stored",
                                     "computed", "difference", "detail"},
                              to_json(report));
  output.notes.push_back(std::string(report.full ? "full" : "incremental") + " reconcile: " +
                         std::to_string(report.wallets) + " wallets, " + std::to_string(report.entries) +
                         " entries, " + std::to_string(report.transactions) + " transactions, " +
                         (report.full ? std::to_string(report.audit_rows) + " audit rows, " : std::string()) +
                         std::to_string(report.assets) + " assets checked in " + std::to_string(report.elapsed_ms) +
                         " ms: " + std::to_string(report.drift.size()) + " drift, " +
                         std::to_string(report.stuck.size()) + " stuck");
  if (!report.verifier && !report.standby) {
    output.notes.push_back("checkpoint not advanced: this login is not a member of wallet_verifier (see the README, "
                           "\"Database roles\")");
  }
  output.exit_code = exit_code_of(report);
  return output;
}

// Balance assertions: every one listed, those that fail named in a note each.
CommandResult assertion_output(Context& c, const std::string& path) {
  auto results = check_assertions(c.read_store(), path);
  if (!results.ok()) return CommandResult(results.status());
  std::vector<nlohmann::json> rows;
  Output output;
  int failed = 0;
  for (const auto& a : *results) {
    rows.push_back(to_json(a));
    if (a.holds) continue;
    ++failed;
    output.notes.push_back("assertion " + path + ":" + std::to_string(a.line) + " fails: " + a.user + " " + a.asset +
                           " at " + a.at + ": expected " + a.expected + ", ledger " +
                           (a.actual ? *a.actual : std::string("has no such wallet then")));
  }
  Output list = list_output(rows, {"line", "user", "asset", "at", "expected", "actual", "holds"},
                            {{"assertions", rows}, {"failed", failed}});
  list.notes = std::move(output.notes);
  list.notes.push_back(std::to_string(rows.size()) + " assertion(s), " + std::to_string(failed) + " failed");
  list.exit_code = failed > 0 ? kExitDrift : 0;
  return CommandResult(std::move(list));
}

}  // namespace

void register_reconcile_commands(CLI::App& app, Commands& commands) {
  auto* reconcile_command = app.add_subcommand(
      "reconcile", "verify balances, reservations, entries and hash chains against the ledger; list stuck transactions");
  // Before reconcile's own entry: `reconcile statement` parses both.
  register_statement_command(*reconcile_command, commands);
  auto full = std::make_shared<bool>(false);
  auto stuck_after = std::make_shared<std::optional<Milliseconds>>();
  reconcile_command->add_flag("--full", *full, "re-verify every entry, not only those since the last clean run");
  auto assertions = std::make_shared<std::string>();
  reconcile_command->add_option("--assert", *assertions,
                                "check the balance assertions of FILE (lines: USER ASSET BALANCE AT) instead; "
                                "exit 10 when one fails");
  add_duration_option(reconcile_command, "--stuck-after", [stuck_after](Milliseconds after) { *stuck_after = after; },
                      "a pending transaction older than this is stuck (default [reconcile] stuck_after, " +
                          default_text(*find_option("reconcile.stuck_after")) + ")");
  commands.emplace_back(reconcile_command, [full, stuck_after, assertions](Context& c) -> CommandResult {
    if (!assertions->empty()) return assertion_output(c, *assertions);
    auto report = reconcile(c.read_store(), *full, stuck_after->value_or(c.config.reconcile_stuck_after),
                            progress_bar(c.quiet || c.format != Format::table));
    if (!report.ok()) return CommandResult(report.status());
    CommandResult result(reconcile_output(*report));
    result.metrics = jobs::reconcile_samples(*report);
    return result;
  });

  auto* retry_command = app.add_subcommand(
      "retry", "re-drive stuck transactions: re-run settlement of pending withdrawals, void expired holds");
  auto limit = std::make_shared<int>(100);
  auto dry_run = std::make_shared<bool>(false);
  retry_command->add_option("--limit", *limit, "at most this many transactions (1-100000, default 100)")
      ->check(CLI::Range(1, kRetryLimitMax));
  retry_command->add_flag("--dry-run", *dry_run, "list what would be done; change nothing");
  commands.emplace_back(retry_command, [limit, dry_run](Context& c) -> CommandResult {
    auto report = retry(*c.store, c.ledger->settlement(), *limit, *dry_run, c.actor);
    if (!report.ok()) return CommandResult(report.status());
    std::vector<nlohmann::json> rows;
    for (const auto& a : report->actions) rows.push_back(to_json(a));
    Output output = list_output(rows, {"transaction", "kind", "action", "status", "attempts", "next_attempt_at", "detail"},
                                {{"dry_run", report->dry_run}, {"actions", rows}});
    output.notes.push_back(std::to_string(rows.size()) + (report->dry_run ? " transaction(s) due" : " transaction(s) handled"));
    output.exit_code = exit_code_of(*report);
    CommandResult result(std::move(output));
    result.metrics = jobs::retry_samples(*report);
    return result;
  });
}

}  // namespace wallet::cli
