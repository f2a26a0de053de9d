// Column-mapping profiles for external statements (`walletctl reconcile
// statement --profile NAME`), read from [statement.profiles.NAME] tables of
// the configuration file. A profile says which CSV column (or JSON Lines
// key) holds each field of a statement line and how its dates and amounts
// are written. Pure data plus the TOML reader; the parsing of lines lives
// in reconcile/statement_format.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/domain/status.hpp"

namespace wallet {

// Most profiles one file may define (each is a few hundred bytes).
inline constexpr std::size_t kStatementProfilesMax = 100;
// Longest column name, value or date format in a profile (bytes).
inline constexpr std::size_t kStatementProfileTextMax = 200;

struct StatementProfile {
  std::string name;    // empty: the built-in default profile
  std::string format;  // "csv", "jsonl" or empty (the file's extension or --format decides)
  char delimiter = ',';  // CSV field separator
  // Column names (CSV header) or keys (JSON Lines). date, amount and
  // reference must be present in the file; description and currency are
  // optional unless the profile names them.
  std::string date = "date";
  std::string amount = "amount";
  std::string reference = "reference";
  std::string description = "description";
  std::string currency = "currency";
  bool description_required = false;
  bool currency_required = false;
  // Optional column whose value gives the direction; the amount is then
  // unsigned. A value in debit_values is money out of the external account.
  std::string direction;
  std::vector<std::string> debit_values = {"DBIT", "D", "DR", "DEBIT"};
  std::vector<std::string> credit_values = {"CRDT", "C", "CR", "CREDIT"};
  // Without a direction column: whether a negative amount is money out of
  // the external account (the default) or into it (a provider that
  // reports payouts as positive amounts).
  bool negative_means_in = false;
  // strftime-like: %Y %m %d %H %M %S and literal characters; empty: RFC 3339
  // or an ISO 8601 date. A format without %H is a date (the whole day, UTC).
  std::string date_format;
  char decimal_separator = '.';
  std::string thousands_separators;  // characters allowed between groups of three digits
};

}  // namespace wallet
