// External statements (`walletctl reconcile statement`): the lines of a
// bank's or payout provider's statement, read from CSV (columns mapped by a
// StatementProfile), JSON Lines (keys mapped the same way) or ISO 20022
// camt.053 XML (camt053.hpp). No database: every reader streams the file
// and hands each line to a sink, and fails with Invalid naming FILE:LINE.
//
// Direction: a statement describes the external account behind a ledger
// account (@settlement, @treasury). A negative amount is money leaving
// that external account (a payout, DBIT); a positive one is money arriving
// (a top-up received, CRDT).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/statement_profile.hpp"
#include "core/domain/status.hpp"

namespace wallet {

enum class StatementFormat { csv, jsonl, camt053 };

// Longest reference, currency and description kept from a line (bytes);
// longer text is an error for references and currencies and is cut at a
// whole character for descriptions.
inline constexpr std::size_t kStatementReferenceMax = 140;  // camt.053's Max140Text
inline constexpr std::size_t kStatementCurrencyMax = 12;
inline constexpr std::size_t kStatementDescriptionMax = 500;

struct StatementDate {
  std::string at;          // RFC 3339 with an offset (midnight UTC for a date)
  bool whole_day = false;  // only a date was given: the line covers that day
};

struct StatementLine {
  int64_t line = 0;  // line of the file, counting from 1 as an editor does
  StatementDate date;
  int64_t amount = 0;  // signed minor units of the asset; never zero
  std::string reference;    // may be empty
  std::string description;  // may be empty
  std::string currency;     // empty when the file does not say
};

// Receives each line; a non-ok Status stops the reading and is returned.
using StatementSink = std::function<Status(const StatementLine&)>;

// The format named by `flag` ("csv", "jsonl", "camt053"), else the
// profile's, else the extension of `path` (.csv; .jsonl, .ndjson; .xml,
// .camt, .053). Invalid when none says.
Result<StatementFormat> statement_format_of(const std::string& path, const std::string& flag,
                                            const StatementProfile& profile);
std::string_view statement_format_name(StatementFormat format);

// A signed amount as a statement writes it, in minor units of `scale`:
// an optional leading sign, the profile's decimal separator, and its
// thousands separators between groups of three digits ("-1.234,50").
// Invalid for zero, too many decimals, misplaced separators, overflow.
Result<int64_t> parse_statement_amount(std::string_view text, int scale, const StatementProfile& profile);

// A date or date-time in the profile's date_format (or RFC 3339 / ISO date).
Result<StatementDate> parse_statement_date(std::string_view text, const std::string& date_format);

// Reads a CSV or JSON Lines statement. `source` names the file in messages.
Status read_statement_text(std::istream& in, StatementFormat format, const StatementProfile& profile, int scale,
                           const std::string& source, const StatementSink& sink);

// Reads the statement file at `path` in `format`, streaming (memory does
// not grow with the file). Invalid, naming FILE:LINE, at the first bad line.
Status read_statement_file(const std::string& path, StatementFormat format, const StatementProfile& profile,
                           int scale, const StatementSink& sink);

// SHA-256 of the file's bytes, as hex (a statement imported twice is
// recognised by it). Invalid when the file cannot be read.
Result<std::string> file_sha256(const std::string& path);

}  // namespace wallet
