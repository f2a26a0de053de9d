// The reconcile checks: the statements of reconcile/sql run in one
// repeatable-read snapshot through the store's query helper, their rows
// turned into the report's findings, and the checkpoint advanced past a
// clean ledger.
#include <chrono>
#include <map>

#include "core/store/query.hpp"
#include "reconcile/reconcile.hpp"
#include "reconcile/statements.hpp"

namespace wallet {

namespace {

using reconcile_sql::statement;

// Wallets per chunk: small enough for a progress bar to move, large enough
// that per-query overhead does not matter.
constexpr int64_t kChunkWallets = 20'000;

// Sums of int64 values can exceed int64; they are carried as exact decimal
// text from PostgreSQL (numeric) and added here as __int128.
__int128 parse_sum(const std::string& text) {
  __int128 value = 0;
  bool negative = false;
  for (char c : text) {
    if (c == '-') negative = true;
    if (c >= '0' && c <= '9') value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

std::string sum_text(__int128 value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  unsigned __int128 magnitude = negative ? static_cast<unsigned __int128>(-value) : static_cast<unsigned __int128>(value);
  std::string digits;
  while (magnitude > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  return negative ? "-" + digits : digits;
}

// A finding on one wallet, from a row with the columns wallet_id, user_id,
// asset, stored and computed.
Drift wallet_drift(const pqxx::row& row, const std::string& check, const std::string& detail) {
  Drift d;
  d.check = check;
  d.wallet_id = row["wallet_id"].as<int64_t>();
  d.user = row["user_id"].as<std::string>();
  d.asset = row["asset"].as<std::string>();
  d.stored = row["stored"].as<std::string>();
  d.computed = row["computed"].as<std::string>();
  d.detail = detail;
  return d;
}

// Turns one failing wallet row of reconcile_chunk_* into findings.
void chunk_findings(const pqxx::row& row, std::vector<Drift>& drift) {
  const int64_t version = row["version"].as<int64_t>();
  const int64_t last_version = row["last_version"].as<int64_t>();
  const int64_t count = row["entries"].as<int64_t>();
  const int64_t base_version = row["base_version"].as<int64_t>();
  if (row["stored"].as<std::string>() != row["computed"].as<std::string>()) {
    drift.push_back(wallet_drift(row, "balance", "stored balance differs from the sum of its ledger entries"));
  }
  if (!row["unlinked"].is_null()) {
    drift.push_back(wallet_drift(row, "chain", "entry version " + row["unlinked"].as<std::string>() +
                                                   " does not continue the previous entry (version or balance)"));
  }
  if (!row["unhashed"].is_null()) {
    drift.push_back(wallet_drift(row, "hash", "entry version " + row["unhashed"].as<std::string>() +
                                                  " has a hash that does not match its contents and predecessor"));
  }
  if (version != last_version || count != version - base_version) {
    drift.push_back(wallet_drift(row, "version",
                                 "wallet version " + std::to_string(version) + " but entries end at version " +
                                     std::to_string(last_version) + " (" + std::to_string(count) +
                                     " entries since version " + std::to_string(base_version) + ")"));
  } else if (!row["head_ok"].as<bool>()) {
    drift.push_back(wallet_drift(row, "hash", "the wallet's last hash is not its last entry's hash"));
  }
}

// Where this run stands: who runs it, and the entry ids it covers.
struct Session {
  bool verifier = false;    // may advance the checkpoint (wallet_verifier)
  int64_t high_water = 0;   // highest entry id the last clean run verified
  int64_t last_entry = 0;   // highest entry id this run's snapshot sees
};

// Incremental run: the transactions of the entries verified in the chunk [from, to).
void check_fresh_transactions(Query& query, int64_t from, int64_t to, int64_t high_water, ReconcileReport& report) {
  for (const auto& row : query.exec(statement("reconcile_transactions"), from, to, high_water)) {
    if (row["transaction_id"].is_null()) {
      report.transactions += row["checked"].as<int64_t>();
      continue;
    }
    Drift d;
    d.check = "transaction";
    d.transaction_id = row["transaction_id"].as<int64_t>();
    if (!row["asset"].is_null()) d.asset = row["asset"].as<std::string>();
    d.stored = row["total"].as<std::string>();
    d.computed = "0";
    if (row["status"].is_null()) {
      d.check = "orphan";
      d.detail = row["entries"].as<std::string>() + " ledger entries belong to transaction " +
                 std::to_string(*d.transaction_id) + ", which does not exist";
    } else {
      d.detail = "transaction is " + row["status"].as<std::string>() + " with " + row["entries"].as<std::string>() +
                 " entries (" + row["matching"].as<std::string>() + " matching its wallets and amount)";
    }
    report.drift.push_back(d);
  }
}

// Incremental run: entries above the high-water mark that no wallet's
// chain check reaches (their wallet does not exist, or they sit at a
// version the checkpoint had already verified).
void check_new_entries(Query& query, int64_t high_water, ReconcileReport& report) {
  for (const auto& row : query.exec(statement("reconcile_new_entries"), high_water)) {
    Drift d;
    d.transaction_id = row["transaction_id"].as<int64_t>();
    d.wallet_id = row["wallet_id"].as<int64_t>();
    d.stored = row["amount"].as<std::string>();
    d.computed = "0";
    const std::string entry = "ledger entry " + row["entry_id"].as<std::string>();
    if (row["asset"].is_null()) {
      d.check = "orphan";
      d.detail = entry + " is on wallet " + std::to_string(*d.wallet_id) + ", which does not exist";
    } else {
      d.check = "chain";
      d.user = row["user_id"].as<std::string>();
      d.asset = row["asset"].as<std::string>();
      d.detail = entry + " was written after the last clean run at version " + row["version"].as<std::string>() +
                 ", which the checkpoint had already verified (version " +
                 row["checkpoint_version"].as<std::string>() + ")";
    }
    report.drift.push_back(d);
  }
}

// Every wallet's chain, chunk by chunk: findings into `report`, and the sum
// of the entries verified per asset into `sums`.
void check_chains(Query& query, const Session& session, const std::function<void(int64_t, int64_t)>& progress,
                  ReconcileReport& report, std::map<std::string, __int128>& sums) {
  const pqxx::row bounds = query.exec1(statement("reconcile_bounds"));
  const int64_t low = bounds["low"].as<int64_t>();
  const int64_t high = bounds["high"].as<int64_t>();
  const int64_t wallet_count = bounds["wallets"].as<int64_t>();
  const auto& chunk = statement(report.full ? "reconcile_chunk_full" : "reconcile_chunk_incremental");
  for (int64_t from = low; from <= high && wallet_count > 0; from += kChunkWallets) {
    const int64_t to = from + kChunkWallets;
    const auto rows = report.full ? query.exec(chunk, from, to) : query.exec(chunk, from, to, session.high_water);
    for (const auto& row : rows) {
      if (row["row_kind"].as<std::string>() == "wallet") {
        chunk_findings(row, report.drift);
        continue;
      }
      sums[row["asset"].as<std::string>()] += parse_sum(row["computed"].as<std::string>());
      report.wallets += row["wallets"].as<int64_t>();
      report.entries += row["entries"].as<int64_t>();
    }
    if (!report.full) check_fresh_transactions(query, from, to, session.high_water, report);
    if (progress) progress(std::min(to - low, high - low + 1), high - low + 1);
  }
}

// Full run: every wallet against its posted transactions, and references
// that lead nowhere.
void check_transactions_full(Query& query, ReconcileReport& report) {
  for (const auto& row : query.exec(statement("reconcile_transactions_full"))) {
    if (row["wallet_id"].is_null()) {
      report.transactions = row["transactions"].as<int64_t>();
      continue;
    }
    report.drift.push_back(wallet_drift(row, "transaction",
                                        "wallet version " + row["version"].as<std::string>() + " but " +
                                            row["transactions"].as<std::string>() +
                                            " posted transactions touch it; balance computed from posted transactions"));
  }
  for (const auto& row : query.exec(statement("reconcile_orphans"))) {
    Drift d;
    d.check = "orphan";
    if (!row["wallet_id"].is_null()) d.wallet_id = row["wallet_id"].as<int64_t>();
    d.transaction_id = row["transaction_id"].as<int64_t>();
    if (!row["asset"].is_null()) d.asset = row["asset"].as<std::string>();
    d.stored = row["amount"].as<std::string>();
    d.computed = "0";
    d.detail = row["detail"].as<std::string>();
    report.drift.push_back(d);
  }
}

// Each asset's entries sum to zero: the checkpoint's sum (incremental run)
// plus what was verified now. Returns the new sums, for the checkpoint, and
// sets each finding's scale.
std::map<std::string, __int128> check_asset_sums(Query& query, const std::map<std::string, __int128>& sums,
                                                 ReconcileReport& report) {
  std::map<std::string, __int128> totals;
  std::map<std::string, int> scales;
  for (const auto& row : query.exec(statement("reconcile_assets"))) {
    const std::string asset = row["asset"].as<std::string>();
    scales[asset] = row["scale"].as<int>();
    const auto verified = sums.find(asset);
    totals[asset] = (report.full ? 0 : parse_sum(row["entry_sum"].as<std::string>())) +
                    (verified == sums.end() ? 0 : verified->second);
    ++report.assets;
    if (totals[asset] != 0) {
      Drift d;
      d.check = "asset_sum";
      d.asset = asset;
      d.stored = "0";
      d.computed = sum_text(totals[asset]);
      d.detail = "the ledger entries of " + asset + " do not sum to zero";
      report.drift.push_back(d);
    }
  }
  for (auto& d : report.drift) d.scale = scales[d.asset];
  return totals;
}

Stuck stuck_of(const pqxx::row& row) {
  Stuck s;
  s.transaction_id = row["transaction_id"].as<int64_t>();
  s.kind = row["kind"].as<std::string>();
  s.asset = row["asset"].as<std::string>();
  s.age_seconds = row["age_seconds"].as<int64_t>();
  s.attempts = row["attempts"].as<int>();
  if (!row["last_error"].is_null()) s.last_error = row["last_error"].as<std::string>();
  s.reason = row["reason"].as<std::string>();
  return s;
}

// Advances the checkpoint only past a clean ledger, so that drift keeps
// being reported until someone fixes it. A standby cannot be written: its
// runs verify from the primary's checkpoint (replicated) and leave it
// there; the primary's next run verifies the same entries again. Only the
// verifier (a member of wallet_verifier) advances it or records the run:
// the application role checks from the checkpoint and leaves it alone.
void save_checkpoint(Query& query, const Session& session, const std::map<std::string, __int128>& totals,
                     ReconcileReport& report) {
  if (report.standby || !session.verifier) return;
  if (report.drift.empty()) {
    query.exec(statement("reconcile_save_wallets"), session.last_entry);
    for (const auto& [asset, total] : totals) query.exec(statement("reconcile_save_asset"), asset, sum_text(total));
    report.checkpoint_advanced = true;
  }
  query.exec(statement("reconcile_record"), report.full, report.entries, static_cast<int>(report.drift.size()),
             static_cast<int>(report.stuck.size()));
}

}  // namespace

Result<ReconcileReport> reconcile(Store& store, bool full, Milliseconds stuck_after,
                                  const std::function<void(int64_t, int64_t)>& progress) {
  const auto started = std::chrono::steady_clock::now();
  // One snapshot for everything: concurrent movements neither confuse the
  // checks nor slip past the checkpoint.
  using Snapshot = pqxx::transaction<pqxx::isolation_level::repeatable_read>;
  auto report = transact<Snapshot>(store, "reconcile", [&](Query& query) {
    ReconcileReport r;
    r.full = full;
    query.exec(statement("reconcile_lock"));
    const pqxx::row who = query.exec1(statement("reconcile_session"));
    r.standby = who["in_recovery"].as<bool>();
    Session session;
    session.verifier = who["verifier"].as<bool>();
    session.high_water = who["high_water"].as<int64_t>();
    session.last_entry = who["last_entry"].as<int64_t>();
    r.verifier = session.verifier;
    query.exec(statement("reconcile_no_jit"));
    std::map<std::string, __int128> sums;  // entries verified now, per asset
    check_chains(query, session, progress, r, sums);
    if (full) check_transactions_full(query, r);
    else check_new_entries(query, session.high_water, r);
    for (const auto& row : query.exec(statement("reconcile_reserved"))) {
      r.drift.push_back(wallet_drift(row, "reserved", "stored reserved amount differs from the sum of its pending holds"));
    }
    const auto totals = check_asset_sums(query, sums, r);
    for (const auto& row : query.exec(statement("reconcile_stuck"), static_cast<int64_t>(stuck_after.count()))) {
      r.stuck.push_back(stuck_of(row));
    }
    save_checkpoint(query, session, totals, r);
    return r;
  });
  if (report.ok()) {
    report->elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  }
  return report;
}

Result<int64_t> stuck_count(Store& store, Milliseconds stuck_after) {
  return transact(store, "stuck count", [&](Query& query) {
    return query.exec1(statement("reconcile_stuck_count"), static_cast<int64_t>(stuck_after.count()))["stuck"]
        .as<int64_t>();
  });
}

}  // namespace wallet
