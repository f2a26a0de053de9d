// Reconciliation: the database side (see Store::reconcile in store.hpp and
// the reconcile_* statements in statements.cpp).
#include <chrono>
#include <map>
#include <pqxx/pqxx>

#include "core/store/store.hpp"
#include "core/store/store_statements.hpp"

namespace wallet {

namespace {

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

Drift wallet_drift(const pqxx::row& row, const std::string& check, const std::string& detail) {
  Drift d;
  d.check = check;
  d.wallet_id = row[1].as<int64_t>();
  d.user = row[2].as<std::string>();
  d.asset = row[3].as<std::string>();
  d.stored = row[4].as<std::string>();
  d.computed = row[5].as<std::string>();
  d.detail = detail;
  return d;
}

// Turns one failing wallet row of reconcile_chunk into findings.
void chunk_findings(const pqxx::row& row, std::vector<Drift>& drift) {
  const int64_t version = row[6].as<int64_t>();
  const int64_t last_version = row[7].as<int64_t>();
  const int64_t count = row[8].as<int64_t>();
  const int64_t base_version = row[12].as<int64_t>();
  if (row[4].as<std::string>() != row[5].as<std::string>()) {
    drift.push_back(wallet_drift(row, "balance", "stored balance differs from the sum of its ledger entries"));
  }
  if (!row[9].is_null()) {
    drift.push_back(wallet_drift(row, "chain", "entry version " + row[9].as<std::string>() +
                                                   " does not continue the previous entry (version or balance)"));
  }
  if (!row[10].is_null()) {
    drift.push_back(wallet_drift(row, "hash", "entry version " + row[10].as<std::string>() +
                                                  " has a hash that does not match its contents and predecessor"));
  }
  if (version != last_version || count != version - base_version) {
    drift.push_back(wallet_drift(row, "version",
                                 "wallet version " + std::to_string(version) + " but entries end at version " +
                                     std::to_string(last_version) + " (" + std::to_string(count) +
                                     " entries since version " + std::to_string(base_version) + ")"));
  } else if (!row[11].as<bool>()) {
    drift.push_back(wallet_drift(row, "hash", "the wallet's last hash is not its last entry's hash"));
  }
}

}  // namespace

Result<ReconcileReport> Store::reconcile(bool full, Milliseconds stuck_after,
                                         const std::function<void(int64_t, int64_t)>& progress) {
  ReconcileReport report;
  const auto started = std::chrono::steady_clock::now();
  Status status = run("reconcile", [&](pqxx::connection_base& c) {
    report = ReconcileReport{};
    report.full = full;
    // One snapshot for everything: concurrent movements neither confuse the
    // checks nor slip past the checkpoint.
    pqxx::transaction<pqxx::isolation_level::repeatable_read> tx(c);
    Statements db(tx, options_);
    // Advisory locks work on a hot standby too (they are never WAL-logged).
    db.exec("reconcile_lock");
    report.standby = db.exec1("in_recovery")[0].as<bool>();
    db.exec("reconcile_no_jit");
    const auto bounds = db.exec1("reconcile_bounds");
    const int64_t low = bounds[0].as<int64_t>();
    const int64_t high = bounds[1].as<int64_t>();
    const int64_t wallet_count = bounds[2].as<int64_t>();

    std::map<std::string, __int128> sums;  // entries verified now, per asset
    for (int64_t from = low; from <= high && wallet_count > 0; from += kChunkWallets) {
      const int64_t to = from + kChunkWallets;
      for (const auto& row : db.exec(full ? "reconcile_chunk_full" : "reconcile_chunk_incremental", from, to)) {
        if (row[0].as<std::string>() == "wallet") {
          chunk_findings(row, report.drift);
          continue;
        }
        sums[row[3].as<std::string>()] += parse_sum(row[5].as<std::string>());
        report.wallets += row[6].as<int64_t>();
        report.entries += row[8].as<int64_t>();
      }
      if (!full) {
        for (const auto& row : db.exec("reconcile_transactions", from, to)) {
          if (row[0].is_null()) {
            report.transactions += row[3].as<int64_t>();
            continue;
          }
          Drift d;
          d.check = "transaction";
          d.transaction_id = row[0].as<int64_t>();
          d.asset = row[1].as<std::string>();
          d.stored = row[4].as<std::string>();
          d.computed = "0";
          d.detail = "transaction is " + row[2].as<std::string>() + " with " + row[3].as<std::string>() +
                     " entries (" + row[5].as<std::string>() + " matching its wallets and amount)";
          report.drift.push_back(d);
        }
      }
      if (progress) progress(std::min(to - low, high - low + 1), high - low + 1);
    }
    if (full) {
      for (const auto& row : db.exec("reconcile_transactions_full")) {
        if (row[0].is_null()) {
          report.transactions = row[6].as<int64_t>();
          continue;
        }
        Drift d;
        d.check = "transaction";
        d.wallet_id = row[0].as<int64_t>();
        d.user = row[1].as<std::string>();
        d.asset = row[2].as<std::string>();
        d.stored = row[3].as<std::string>();
        d.computed = row[4].as<std::string>();
        d.detail = "wallet version " + row[5].as<std::string>() + " but " + row[6].as<std::string>() +
                   " posted transactions touch it; balance computed from posted transactions";
        report.drift.push_back(d);
      }
    }
    if (full) {
      for (const auto& row : db.exec("reconcile_orphans")) {
        Drift d;
        d.check = "orphan";
        if (!row[0].is_null()) d.wallet_id = row[0].as<int64_t>();
        d.transaction_id = row[1].as<int64_t>();
        if (!row[2].is_null()) d.asset = row[2].as<std::string>();
        d.stored = row[3].as<std::string>();
        d.computed = "0";
        d.detail = row[4].as<std::string>();
        report.drift.push_back(d);
      }
    }
    for (const auto& row : db.exec("reconcile_reserved")) {
      Drift d;
      d.check = "reserved";
      d.wallet_id = row[0].as<int64_t>();
      d.user = row[1].as<std::string>();
      d.asset = row[2].as<std::string>();
      d.stored = row[3].as<std::string>();
      d.computed = row[4].as<std::string>();
      d.detail = "stored reserved amount differs from the sum of its pending holds";
      report.drift.push_back(d);
    }
    std::map<std::string, __int128> totals;
    std::map<std::string, int> scales;
    for (const auto& row : db.exec("reconcile_assets")) {
      const std::string asset = row[0].as<std::string>();
      scales[asset] = row[1].as<int>();
      totals[asset] = (full ? 0 : parse_sum(row[2].as<std::string>())) + sums[asset];
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

    for (const auto& row : db.exec("stuck", static_cast<int64_t>(stuck_after.count()))) {
      report.stuck.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                              row[3].as<int64_t>(), row[4].as<int>(),
                              row[5].is_null() ? std::nullopt : std::optional<std::string>(row[5].as<std::string>()),
                              row[6].as<std::string>()});
    }
    // Advance the checkpoint only past a clean ledger, so that drift keeps
    // being reported until someone fixes it. A standby cannot be written:
    // its runs verify from the primary's checkpoint (replicated) and leave
    // it there; the primary's next run verifies the same entries again.
    if (!report.standby) {
      if (report.drift.empty()) {
        db.exec("reconcile_save_wallets");
        for (const auto& [asset, total] : totals) db.exec("reconcile_save_asset", asset, sum_text(total));
        report.checkpoint_advanced = true;
      }
      db.exec("reconcile_record", full, report.entries, static_cast<int>(report.drift.size()),
             static_cast<int>(report.stuck.size()));
    }
    tx.commit();
  });
  if (!status.ok()) return status;
  report.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace wallet
