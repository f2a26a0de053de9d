// Bulk import: the database side (see Store::import_batch in store.hpp and
// wallet_import_batch in sql/functions/50_import.sql).
#include <cassert>
#include <pqxx/pqxx>

#include "core/store/store.hpp"
#include "core/store/query.hpp"

namespace wallet {

namespace {

// A PostgreSQL array literal ("{...}"), built element by element. libpqxx 6
// has no array parameters, so a batch travels as one literal per column.
class ArrayLiteral {
 public:
  void text(std::string_view value) {
    separate();
    out_ += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void null() {
    separate();
    out_ += "NULL";
  }
  void integer(int64_t value) {
    separate();
    out_ += std::to_string(value);
  }
  void boolean(bool value) {
    separate();
    out_ += value ? 't' : 'f';
  }
  std::string done() const { return "{" + out_ + "}"; }

 private:
  void separate() {
    if (!out_.empty()) out_ += ',';
  }
  std::string out_;
};

// The columns of a batch, in the order of wallet_import_batch's parameters.
struct BatchArrays {
  ArrayLiteral lines, wallet_lines, keys, fingerprints, kinds, debits, credits, assets, amounts, memos, references;
};

BatchArrays arrays_of(const std::vector<ImportLine>& batch) {
  BatchArrays a;
  for (const ImportLine& line : batch) {
    a.lines.integer(line.line);
    a.wallet_lines.boolean(line.creates_wallet);
    if (line.amount) {
      a.keys.text(line.idempotency_key);
      a.amounts.integer(*line.amount);
    } else {
      a.keys.null();
      a.amounts.null();
    }
    a.fingerprints.text(line.fingerprint);
    a.kinds.text(line.kind);
    a.debits.text(line.from_user);
    a.credits.text(line.to_user);
    a.assets.text(line.asset);
    a.memos.text(line.memo);
    if (line.reference.empty()) {
      a.references.null();
    } else {
      a.references.text(line.reference);
    }
  }
  return a;
}

ImportOutcome outcome_of(const std::string& name) {
  if (name == "applied") return ImportOutcome::applied;
  if (name == "replayed") return ImportOutcome::replayed;
  if (name == "refused") return ImportOutcome::refused;
  if (name == "not_found") return ImportOutcome::not_found;
  if (name == "conflict") return ImportOutcome::conflict;
  return ImportOutcome::invalid;
}

std::vector<ImportLineResult> results_of(const pqxx::result& rows, std::size_t expected) {
  std::vector<ImportLineResult> results(expected);
  for (const auto& row : rows) {
    const auto ordinal = columns(row, 4)[0].as<std::size_t>();
    assert(ordinal >= 1 && ordinal <= expected);
    ImportLineResult& r = results[ordinal - 1];
    r.outcome = outcome_of(row[1].as<std::string>());
    if (!row[2].is_null()) r.transaction_id = row[2].as<int64_t>();
    if (!row[3].is_null()) r.message = row[3].as<std::string>();
  }
  return results;
}

}  // namespace

Result<std::vector<ImportLineResult>> Store::import_batch(const std::vector<ImportLine>& lines,
                                                          const std::string& actor, const std::string& source) {
  const BatchArrays a = arrays_of(lines);
  const auto apply = [&](Query& query) {
    const pqxx::result rows = query.exec(
        "import_batch", a.lines.done(), a.wallet_lines.done(), a.keys.done(), a.fingerprints.done(),
        a.kinds.done(), a.debits.done(), a.credits.done(), a.assets.done(), a.amounts.done(), a.memos.done(),
        actor, source, a.references.done());
    if (rows.size() != lines.size()) {
      throw std::logic_error("import batch returned " + std::to_string(rows.size()) + " results for " +
                             std::to_string(lines.size()) + " lines");
    }
    return results_of(rows, lines.size());
  };
  if (in_dry_run()) {
    std::vector<ImportLineResult> results;
    Status status = run_in_dry_run("import", [&](pqxx::transaction_base& tx) {
      Query query(tx, options_);
      results = apply(query);
    });
    if (!status.ok()) return status;
    return results;
  }
  // Autocommit: wallet_import_batch() is one statement, hence one transaction.
  return transact(*this, "import", apply);
}

}  // namespace wallet
