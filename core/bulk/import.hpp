// walletctl import: reads a CSV or JSON Lines stream line by line, validates
// each line like a single movement, and applies the lines in batches through
// Store::import_batch (one database transaction per batch, one outcome per
// line). Memory is bounded by the batch, not the input.
//
// Keys: a line's `key`, else one derived from its content, so re-running a
// file changes nothing: "import:wallet:<user>:<asset>" for the opening
// balance of a wallet record, "import:<kind>:<32 hex digits of the SHA-256
// of the request's fingerprint>" for a movement. Two identical movement
// lines without keys are therefore one movement (the second replays it);
// give keys to repeat a movement on purpose.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/bulk/import_format.hpp"
#include "core/store/store.hpp"

namespace wallet {

// Lines per database transaction: large enough that per-statement costs
// vanish, small enough that wallets are locked for well under a second and
// a batch's arrays stay a few megabytes.
inline constexpr std::size_t kImportBatchLinesMax = 5'000;
// Errors kept for the summary (all are reported as they happen).
inline constexpr std::size_t kImportErrorsMax = 1'000;

struct ImportOptions {
  ImportFormat format = ImportFormat::csv;
  std::string source;       // the file as given ("-": standard input), for messages and the audit log
  bool dry_run = false;
  std::string actor;
  bool settlement_configured = false;  // kind withdraw needs the settlement command, which import does not run
  std::size_t batch_lines = kImportBatchLinesMax;
};

struct ImportError {
  int64_t line = 0;
  std::string message;
};

struct ImportSummary {
  int64_t lines = 0;     // records read (the header and blank lines do not count)
  int64_t applied = 0;   // posted now (or, for a wallet without amount, created now)
  int64_t replayed = 0;  // already done before, under the same key
  int64_t refused = 0;   // insufficient funds, recorded as failed under the key (now or before)
  int64_t invalid = 0;   // malformed, bad values, unknown asset or wallet, key used for another request
  int64_t last_line = 0; // last line number applied (for a run that stopped early)
  std::vector<ImportError> errors;  // the first kImportErrorsMax refused or invalid lines
  int64_t elapsed_ms = 0;
  bool dry_run = false;
};

struct ImportProgress {
  int64_t lines = 0;
  int64_t bytes_read = 0;
  int64_t elapsed_ms = 0;
};

struct ImportCallbacks {
  std::function<void(const ImportError&)> on_error;         // each refused or invalid line, as it happens
  std::function<void(const ImportProgress&)> on_progress;  // after each batch
};

// Imports `in`. Fills `summary` as it goes, so after a failure it says how
// far the import got. Returns Ok when every line was read (whatever their
// outcomes); Invalid for a bad CSV header; the Store's status when the
// database failed (then lines after summary.last_line were not applied:
// re-running the file replays the ones that were).
Status run_import(Store& store, std::istream& in, const ImportOptions& options, const ImportCallbacks& callbacks,
                  ImportSummary& summary);

// 2 when some line was invalid, else 3 when some line was refused for
// funds, else 0. Invalid wins: the file itself needs fixing first.
int exit_code_of(const ImportSummary& summary);

// {applied, replayed, refused, invalid, lines, errors: [{line, message}], ...}
nlohmann::json to_json(const ImportSummary& summary);

// Pure helpers, exposed for unit tests.

// The validated line for `record` (whose asset has `scale`): the same checks
// as a single movement's, then the key (given or derived) and fingerprint.
Result<ImportLine> import_line_of(const ImportRecord& record, int64_t line, int scale, bool settlement_configured);

// The key of a movement line without one: "import:<kind>:" + 32 hex digits
// of SHA-256(fingerprint).
std::string derived_movement_key(const std::string& kind, const std::string& fingerprint);

}  // namespace wallet
