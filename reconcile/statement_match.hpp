// `walletctl reconcile statement`: matches an external statement (a bank's
// or payout provider's, see statement_format.hpp) against the posted
// movements of one ledger account, set-based in PostgreSQL: the lines are
// streamed into a temporary table with COPY, and wallet_statement_run
// (sql/functions/70_statements.sql, where the rules are) joins them with
// the account's ledger entries and records the run. Memory stays flat in
// the file's size; the report is read back from the recorded run.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/store/store.hpp"

namespace wallet {

// Exit code when statement lines or movements are left unmatched or
// mismatched (DESIGN §6): for cron, like reconcile's 10 and 11.
inline constexpr int kExitUnmatched = 12;

// Default --date-window: a payout booked the next business day still matches.
inline constexpr Milliseconds kStatementDateWindowDefault{2LL * 24 * 3600 * 1000};
// Widest --date-window (31 days): wider windows make amount matches guesses.
inline constexpr Milliseconds kStatementDateWindowMax{31LL * 24 * 3600 * 1000};
// Most runs one --list shows.
inline constexpr int kStatementRunsListMax = 1000;

struct StatementRunRequest {
  std::string file;
  std::string format;   // csv, jsonl, camt053; empty: the profile's, else the extension's
  std::string profile;  // [statement.profiles.NAME]; empty: the default columns
  std::string account;  // the ledger account: @settlement, @treasury, or a user
  std::string asset;
  std::optional<std::string> since;  // as typed (RFC 3339 or date)
  std::optional<std::string> until;
  std::string amount_tolerance = "0";  // minor units, as typed
  Milliseconds date_window = kStatementDateWindowDefault;
  bool dry_run = false;
  std::string actor;
};

struct StatementMatch {
  std::vector<int64_t> transactions;
  std::vector<int64_t> lines;
  std::string rule;
  int64_t file_id = 0;  // the file of the lines (an earlier one when a later file completed it)
  int64_t run_id = 0;   // the run that matched them
};

struct StatementUnmatchedLine {
  int64_t file_id = 0;
  int64_t line = 0;
  std::string reference;
  std::string amount;  // decimal text, signed as in the statement
  std::string date;    // YYYY-MM-DD for a whole day, else RFC 3339
  std::string description;
  std::string reason;  // empty, or why a line naming a known movement did not match
};

struct StatementMismatch {
  int64_t transaction_id = 0;
  int64_t file_id = 0;
  int64_t line = 0;
  std::string field;  // status, asset, direction, amount
  std::string ledger;
  std::string statement;
};

struct StatementReport {
  std::optional<int64_t> run_id;  // nullopt for a dry run (nothing recorded)
  bool dry_run = false;
  std::string at;
  std::string actor;
  int64_t file_id = 0;
  bool file_new = true;  // false: the same file (content) was imported before; its lines were not added again
  std::string file_name;
  std::string format;
  int64_t file_lines = 0;
  std::string account;
  std::string asset;
  int scale = 0;
  std::string since;
  std::string until;
  std::string amount_tolerance;
  std::string date_window;
  std::vector<StatementMatch> matched;
  std::vector<int64_t> unmatched_transactions;
  std::vector<StatementUnmatchedLine> unmatched_lines;
  std::vector<StatementMismatch> mismatched;
};

struct StatementRunSummary {
  int64_t run_id = 0;
  std::string at, actor, account, asset, file_name, format, since, until;
  int64_t file_lines = 0;
  bool file_new = true;
  int64_t matched_groups = 0, unmatched_lines = 0, unmatched_transactions = 0, mismatched = 0;
};

// Reads, matches and (unless dry_run) records. Invalid (exit 2) for a bad
// file, profile, option or window, naming FILE:LINE for a bad line, with
// nothing recorded; NotFound when the account has no wallet in the asset.
Result<StatementReport> run_statement(Store& store, const Config& config, const StatementRunRequest& request);

// The report of a recorded run again; NotFound for an unknown id.
Result<StatementReport> statement_run_report(Store& store, int64_t run_id);

// Recorded runs, newest first, optionally of one account and asset.
Result<std::vector<StatementRunSummary>> statement_runs(Store& store, const std::optional<std::string>& account,
                                                        const std::optional<std::string>& asset, int limit);

// 0 when everything in the window matched, kExitUnmatched otherwise.
int exit_code_of(const StatementReport& report);

nlohmann::json to_json(const StatementReport& report);
nlohmann::json to_json(const StatementRunSummary& summary);

}  // namespace wallet
