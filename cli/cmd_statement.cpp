// walletctl reconcile statement: match a bank's or payout provider's
// statement against the ledger (reconcile/statement_match.hpp).
#include "cli/app.hpp"
#include "core/domain/validate.hpp"
#include "reconcile/job_metrics.hpp"
#include "reconcile/statement_match.hpp"

namespace wallet::cli {

namespace {

std::string joined(const std::vector<int64_t>& ids) {
  std::string text;
  for (int64_t id : ids) text += (text.empty() ? "" : " ") + std::to_string(id);
  return text;
}

Output report_output(const StatementReport& report) {
  std::vector<nlohmann::json> rows;
  for (const auto& m : report.matched) {
    rows.push_back({{"finding", "matched"}, {"transactions", joined(m.transactions)}, {"lines", joined(m.lines)},
                    {"rule", m.rule},
                    {"detail", m.file_id == report.file_id ? "" : "lines of statement file " + std::to_string(m.file_id)}});
  }
  for (const auto& l : report.unmatched_lines) {
    rows.push_back({{"finding", "unmatched_line"}, {"lines", std::to_string(l.line)}, {"reference", l.reference},
                    {"amount", l.amount}, {"date", l.date},
                    {"detail", l.reason.empty() ? l.description : l.reason}});
  }
  for (int64_t id : report.unmatched_transactions) {
    rows.push_back({{"finding", "unmatched_transaction"}, {"transactions", std::to_string(id)}});
  }
  for (const auto& m : report.mismatched) {
    rows.push_back({{"finding", "mismatched"}, {"transactions", std::to_string(m.transaction_id)},
                    {"lines", std::to_string(m.line)}, {"rule", m.field},
                    {"detail", m.field + ": ledger " + m.ledger + ", statement " + m.statement}});
  }
  Output output = list_output(rows, {"finding", "transactions", "lines", "rule", "reference", "amount", "date", "detail"},
                              to_json(report));
  output.notes.push_back(
      std::string(report.dry_run ? "dry run (nothing recorded)" : "run " + std::to_string(*report.run_id)) + ": " +
      report.file_name + (report.file_new ? "" : " (imported before: its lines were not added again)") + ", " +
      report.account + "/" + report.asset + " from " + report.since + " to " + report.until + ": " +
      std::to_string(report.matched.size()) + " matched, " + std::to_string(report.unmatched_lines.size()) +
      " unmatched lines, " + std::to_string(report.unmatched_transactions.size()) + " unmatched transactions, " +
      std::to_string(report.mismatched.size()) + " mismatched");
  output.exit_code = exit_code_of(report);
  return output;
}

struct StatementOptions {
  StatementRunRequest request;
  std::string since, until;
  bool list = false;
  int64_t run_id = 0;
  int limit = 50;
};

CommandResult run(Context& c, StatementOptions& o) {
  if (o.list) {
    if (!o.request.file.empty() || o.run_id != 0) return Status::Invalid("--list takes no --file or --run");
    auto runs = statement_runs(c.read_store(), o.request.account.empty() ? std::nullopt
                                                                         : std::optional<std::string>(o.request.account),
                               o.request.asset.empty() ? std::nullopt : std::optional<std::string>(o.request.asset),
                               o.limit);
    if (!runs.ok()) return runs.status();
    std::vector<nlohmann::json> rows;
    for (const auto& r : *runs) rows.push_back(to_json(r));
    return list_output(rows, {"run_id", "at", "account", "asset", "file", "lines", "matched", "unmatched_lines",
                              "unmatched_transactions", "mismatched"});
  }
  if (o.run_id != 0) {
    if (!o.request.file.empty()) return Status::Invalid("--run takes no --file");
    auto report = statement_run_report(c.read_store(), o.run_id);
    if (!report.ok()) return report.status();
    return report_output(*report);
  }
  if (o.request.file.empty() || o.request.account.empty() || o.request.asset.empty()) {
    return Status::Invalid("reconcile statement needs --file, --account and --asset (or --list, or --run ID)");
  }
  if (!o.since.empty()) o.request.since = o.since;
  if (!o.until.empty()) o.request.until = o.until;
  o.request.actor = c.actor;
  auto report = run_statement(*c.store, c.config, o.request);
  if (!report.ok()) return report.status();
  CommandResult result(report_output(*report));
  result.metrics = jobs::statement_samples(*report);
  return result;
}

}  // namespace

void register_statement_command(CLI::App& reconcile, Commands& commands) {
  auto* statement = reconcile.add_subcommand(
      "statement", "match a bank's or payout provider's statement (CSV, JSON Lines, camt.053) against the ledger");
  auto o = std::make_shared<StatementOptions>();
  statement->add_option("--file", o->request.file, "the statement file");
  statement->add_option("--format", o->request.format, "csv, jsonl or camt053 (default: the profile's, else the extension)")
      ->check(CLI::IsMember({"csv", "jsonl", "camt053"}));
  statement->add_option("--profile", o->request.profile, "column mapping [statement.profiles.NAME] of the configuration");
  statement->add_option("--account", o->request.account,
                        "the ledger account the statement is about: @settlement (payouts), @treasury (top-ups), a user");
  statement->add_option("--asset", o->request.asset, "the asset (the statement's currency)");
  statement->add_option("--since", o->since, "only lines and movements from this time on (default: the first line's date)");
  statement->add_option("--until", o->until, "only lines and movements before this time (default: after the last line's date)");
  statement->add_flag("--dry-run", o->request.dry_run, "match and report; record nothing");
  statement->add_option("--amount-tolerance", o->request.amount_tolerance,
                        "amounts may differ by this many minor units (default 0)");
  add_duration_option(statement, "--date-window", [o](Milliseconds window) { o->request.date_window = window; },
                      "a movement matches a line by amount within this time of its date (default 2d, at most 31d)");
  statement->add_flag("--list", o->list, "list recorded runs, newest first (of --account and --asset when given)");
  statement->add_option("--run", o->run_id, "show the report of recorded run ID again")->check(CLI::PositiveNumber);
  statement->add_option("--limit", o->limit, "--list: at most this many runs (1-1000, default 50)")
      ->check(CLI::Range(1, kStatementRunsListMax));
  commands.emplace_back(statement, [o](Context& c) -> CommandResult { return run(c, *o); });
}

}  // namespace wallet::cli
