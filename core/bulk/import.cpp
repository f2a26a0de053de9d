#include "core/bulk/import.hpp"

#include <cassert>
#include <chrono>
#include <limits>
#include <map>
#include <optional>

#include "core/domain/amount.hpp"
#include "core/domain/sha256.hpp"
#include "core/ledger/ledger.hpp"
#include "core/domain/validate.hpp"

namespace wallet {

namespace {

// The memo of an opening balance when the wallet record gives none.
constexpr const char* kOpeningBalanceMemo = "opening balance";

MovementInput movement_input_of(const ImportRecord& r) {
  MovementInput in;
  switch (r.type) {
    case RecordType::wallet:
    case RecordType::deposit: in.operation = Operation::deposit; break;
    case RecordType::withdraw: in.operation = Operation::withdraw; break;
    case RecordType::transfer: in.operation = Operation::transfer; break;
  }
  in.user = r.user;
  in.to_user = r.to;
  in.asset = r.asset;
  in.amount = r.amount;
  in.kind = r.kind;
  return in;
}

Status check_values(const ImportRecord& r) {
  return first_error({validate_user_wallet_owner(r.user),
                      r.type == RecordType::transfer ? validate_user_wallet_owner(r.to) : Status::Ok(),
                      validate_asset_code(r.asset), validate_memo(r.memo),
                      r.reference.empty() ? Status::Ok() : validate_reference(r.reference),
                      r.key.empty() ? Status::Ok() : validate_idempotency_key(r.key)});
}

int64_t milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

// Reads, validates and batches the lines of one import (see run_import).
class Importer {
 public:
  Importer(Store& store, const ImportOptions& options, const ImportCallbacks& callbacks, ImportSummary& summary)
      : store_(store), options_(options), callbacks_(callbacks), summary_(summary) {}

  Status run(std::istream& in);

 private:
  Status load_assets();
  Status read_all(LineReader& reader);
  // Parses and validates one record line; invalid lines are kept for the
  // batch's report, valid ones join the batch.
  void add(int64_t line, const std::string& text);
  Result<ImportRecord> parse(const std::string& text) const;
  // Applies the batch and reports its outcomes in line order.
  Status flush(const LineReader& reader);
  void count(int64_t line, ImportOutcome outcome, const std::string& message);

  Store& store_;
  const ImportOptions& options_;
  const ImportCallbacks& callbacks_;
  ImportSummary& summary_;
  std::map<std::string, int> scales_;  // every asset, read once at the start
  std::optional<CsvColumns> columns_;
  std::vector<ImportLine> batch_;
  std::vector<ImportError> batch_invalid_;  // lines of this batch refused before the database
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

Status Importer::run(std::istream& in) {
  summary_ = {};
  summary_.dry_run = options_.dry_run;
  if (Status s = load_assets(); !s.ok()) return s;
  if (options_.dry_run) {
    if (Status s = store_.dry_run_begin(); !s.ok()) return s;
  }
  LineReader reader(in);
  Status status = read_all(reader);
  if (status.ok()) status = flush(reader);
  if (options_.dry_run) store_.dry_run_end();
  summary_.elapsed_ms = milliseconds_since(started_);
  return status;
}

Status Importer::load_assets() {
  auto assets = store_.assets();
  if (!assets.ok()) return assets.status();
  for (const Asset& asset : *assets) scales_[asset.code] = asset.scale;
  return Status::Ok();
}

Status Importer::read_all(LineReader& reader) {
  std::string text;
  for (LineReader::Next next; (next = reader.next(text)) != LineReader::Next::end;) {
    const int64_t line = reader.line_number();
    const bool too_long = next == LineReader::Next::too_long;
    if (!too_long && is_blank_line(text)) continue;
    if (options_.format == ImportFormat::csv && !columns_) {
      auto header = too_long ? Result<CsvColumns>(Status::Invalid("header line is too long")) : parse_csv_header(text);
      if (!header.ok()) return Status::Invalid(options_.source + ":" + std::to_string(line) + ": " + header.status().message());
      columns_ = *header;
      continue;
    }
    ++summary_.lines;
    if (too_long) {
      batch_invalid_.push_back({line, "line is longer than " + std::to_string(kImportLineBytesMax) + " bytes"});
    } else {
      add(line, text);
    }
    if (batch_.size() + batch_invalid_.size() >= options_.batch_lines) {
      if (Status s = flush(reader); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Result<ImportRecord> Importer::parse(const std::string& text) const {
  if (options_.format == ImportFormat::csv) return parse_csv_record(*columns_, text);
  return parse_jsonl_record(text);
}

void Importer::add(int64_t line, const std::string& text) {
  auto record = parse(text);
  Status status = record.ok() ? check_values(*record) : record.status();
  if (status.ok()) {
    auto scale = scales_.find(record->asset);
    if (scale == scales_.end()) {
      status = Status::NotFound("asset " + record->asset + " not found");
    } else {
      auto prepared = import_line_of(*record, line, scale->second, options_.settlement_configured);
      if (prepared.ok()) {
        batch_.push_back(std::move(*prepared));
        return;
      }
      status = prepared.status();
    }
  }
  batch_invalid_.push_back({line, status.message()});
}

Status Importer::flush(const LineReader& reader) {
  std::vector<ImportLineResult> results;
  if (!batch_.empty()) {
    auto applied = store_.import_batch(batch_, options_.actor, options_.source);
    if (!applied.ok()) return applied.status();
    results = std::move(*applied);
  }
  // Report in line order: merge the database's outcomes with the lines
  // refused before it.
  std::size_t next_invalid = 0;
  for (std::size_t i = 0; i <= batch_.size(); ++i) {
    const int64_t line = i < batch_.size() ? batch_[i].line : std::numeric_limits<int64_t>::max();
    for (; next_invalid < batch_invalid_.size() && batch_invalid_[next_invalid].line < line; ++next_invalid) {
      count(batch_invalid_[next_invalid].line, ImportOutcome::invalid, batch_invalid_[next_invalid].message);
    }
    if (i < batch_.size()) count(line, results[i].outcome, results[i].message);
  }
  summary_.last_line = reader.line_number();
  batch_.clear();
  batch_invalid_.clear();
  if (callbacks_.on_progress) callbacks_.on_progress({summary_.lines, reader.bytes_read(), milliseconds_since(started_)});
  return Status::Ok();
}

void Importer::count(int64_t line, ImportOutcome outcome, const std::string& message) {
  switch (outcome) {
    case ImportOutcome::applied: ++summary_.applied; return;
    case ImportOutcome::replayed: ++summary_.replayed; return;
    case ImportOutcome::refused: ++summary_.refused; break;
    case ImportOutcome::not_found:
    case ImportOutcome::conflict:
    case ImportOutcome::invalid: ++summary_.invalid; break;
  }
  ImportError error{line, message};
  if (callbacks_.on_error) callbacks_.on_error(error);
  if (summary_.errors.size() < kImportErrorsMax) summary_.errors.push_back(std::move(error));
}

}  // namespace

std::string derived_movement_key(const std::string& kind, const std::string& fingerprint) {
  return "import:" + kind + ":" + sha256_hex(fingerprint).substr(0, 32);
}

Result<ImportLine> import_line_of(const ImportRecord& r, int64_t line, int scale, bool settlement_configured) {
  if (Status s = first_error({check_record(r), check_values(r)}); !s.ok()) return s;
  auto route = route_of(movement_input_of(r));
  if (!route.ok()) return route.status();
  if (settlement_configured && route->settles) {
    return Status::Invalid("kind " + route->kind + " waits for the settlement command, which import does not run: "
                           "use walletctl withdraw for it");
  }
  ImportLine out;
  out.line = line;
  out.creates_wallet = r.type == RecordType::wallet;
  out.kind = route->kind;
  out.from_user = route->from_user;
  out.to_user = route->to_user;
  out.asset = r.asset;
  out.memo = out.creates_wallet && r.memo.empty() ? kOpeningBalanceMemo : r.memo;
  if (r.amount.empty()) {
    if (!r.reference.empty()) return Status::Invalid("a reference needs an amount (it belongs to a movement)");
    return out;  // a wallet without opening balance
  }
  out.reference = r.reference;
  auto amount = parse_amount(r.amount, scale);
  if (!amount.ok()) return amount.status();
  out.amount = *amount;
  MovementRequest request;
  request.kind = out.kind;
  request.from_user = out.from_user;
  request.to_user = out.to_user;
  request.asset = out.asset;
  request.amount = *amount;
  request.memo = out.memo;
  request.reference = out.reference;
  out.fingerprint = fingerprint_of(request);
  out.idempotency_key = !r.key.empty()           ? r.key
                        : out.creates_wallet ? "import:wallet:" + r.user + ":" + r.asset
                                             : derived_movement_key(out.kind, out.fingerprint);
  return out;
}

Status run_import(Store& store, std::istream& in, const ImportOptions& options, const ImportCallbacks& callbacks,
                  ImportSummary& summary) {
  Importer importer(store, options, callbacks, summary);
  return importer.run(in);
}

int exit_code_of(const ImportSummary& summary) {
  if (summary.invalid > 0) return exit_code(Code::invalid);
  if (summary.refused > 0) return exit_code(Code::insufficient_funds);
  return 0;
}

nlohmann::json to_json(const ImportSummary& s) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : s.errors) errors.push_back({{"line", e.line}, {"message", e.message}});
  const int64_t reported = s.refused + s.invalid;
  return {{"applied", s.applied},
          {"replayed", s.replayed},
          {"refused", s.refused},
          {"invalid", s.invalid},
          {"lines", s.lines},
          {"errors", errors},
          {"errors_omitted", reported - static_cast<int64_t>(s.errors.size())},
          {"dry_run", s.dry_run},
          {"elapsed_ms", s.elapsed_ms},
          {"lines_per_second", s.elapsed_ms > 0 ? s.lines * 1000 / s.elapsed_ms : s.lines}};
}

}  // namespace wallet
