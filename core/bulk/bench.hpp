// walletctl bench: a load generator like pgbench, over the real movement
// path (Ledger::move, one wallet_move() per movement).
//
// It prepares its own asset and wallets idempotently (the wallets are
// funded from @treasury with wallet records through Store::import_batch, so
// a second run replays them), then runs `clients` threads, each with its own
// Store, for `duration`: transfers between two random wallets, or with
// `hot` deposits from @treasury to a random wallet. Every movement goes
// through the ledger's rules, so the ledger stays reconciled.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/domain/duration.hpp"
#include "core/store/store.hpp"

namespace wallet {

// Latencies in microseconds in log-linear buckets: exact below 128 us,
// within 1/64 (1.6%) above, in fixed memory whatever the number of samples.
class LatencyHistogram {
 public:
  LatencyHistogram();
  void record(int64_t microseconds);
  void merge(const LatencyHistogram& other);
  int64_t count() const { return count_; }
  // The smallest bucket bound below which a fraction `q` (0 < q <= 1) of
  // the samples fall, in microseconds; 0 when there are no samples.
  int64_t quantile_us(double q) const;

 private:
  std::vector<int64_t> counts_;
  int64_t count_ = 0;
};

// Bounds (named so the CLI, the man page and the tests agree).
inline constexpr int kBenchClientsMax = 256;            // far above max_connections of a small server
inline constexpr int64_t kBenchWalletsMax = 1'000'000;  // preparing more would be a bench of its own
inline constexpr Milliseconds kBenchDurationMax{24LL * 3600 * 1000};

struct BenchOptions {
  int clients = 8;
  Milliseconds duration{10'000};
  int64_t wallets = 1'000;
  bool hot = false;               // deposits from @treasury instead of transfers
  std::string asset = "BENCH0";   // created with scale 2 when missing
  std::string actor = "walletctl-bench";
};

struct BenchReport {
  int64_t ops = 0;       // movements answered (posted, or refused for funds)
  int64_t refused = 0;   // insufficient funds: an answer, not an error
  int64_t errors = 0;    // anything else (database unreachable, bugs)
  std::string first_error;
  int clients = 0;
  int64_t wallets = 0;
  bool hot = false;
  std::string asset;
  int64_t elapsed_ms = 0;
  int64_t p50_us = 0;
  int64_t p95_us = 0;
  int64_t p99_us = 0;
  int64_t max_us = 0;
};

// The user id of bench wallet `index` (0-based): "bench-0000001" ...
std::string bench_user(int64_t index);

// Creates the asset (if missing) and wallets 0..wallets-1 (if missing),
// each funded once with an opening balance. Safe to repeat.
Status prepare_bench(Store& store, const BenchOptions& options);

// Runs the load (after prepare_bench) and measures it. Invalid options are
// Invalid; per-movement failures are counted in the report, not returned.
Result<BenchReport> run_bench(const std::string& conninfo, const Config& config, const BenchOptions& options);

// {ops, errors, tps, p50_ms, p95_ms, p99_ms, refused, max_ms, clients, wallets, mode, asset, elapsed_ms}
nlohmann::json to_json(const BenchReport& report);

}  // namespace wallet
