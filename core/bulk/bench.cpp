#include "core/bulk/bench.hpp"

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <latch>
#include <random>
#include <thread>

#include "core/domain/amount.hpp"
#include "core/bulk/import.hpp"
#include "core/ledger/ledger.hpp"
#include "core/domain/validate.hpp"

namespace wallet {

namespace {

// Histogram layout: values below 2^7 have a bucket each; above, each power
// of two is split into 64 buckets. Values from 2^40 us (12 days) on share
// the last bucket.
constexpr int kExactBits = 7;
constexpr int64_t kExactMax = int64_t{1} << kExactBits;
constexpr int kSubBuckets = 64;
constexpr int kExponentMax = 39;
constexpr std::size_t kBuckets = kExactMax + (kExponentMax - kExactBits + 1) * kSubBuckets;

std::size_t bucket_of(int64_t us) {
  if (us < 0) us = 0;
  if (us < kExactMax) return static_cast<std::size_t>(us);
  const int exponent = std::min(static_cast<int>(std::bit_width(static_cast<uint64_t>(us))) - 1, kExponentMax);
  const int64_t mantissa = std::min<int64_t>(us >> (exponent - 6), 2 * kSubBuckets - 1);
  return kExactMax + static_cast<std::size_t>(exponent - kExactBits) * kSubBuckets + (mantissa - kSubBuckets);
}

int64_t upper_bound_of(std::size_t bucket) {
  if (bucket < static_cast<std::size_t>(kExactMax)) return static_cast<int64_t>(bucket);
  const std::size_t above = bucket - kExactMax;
  const int exponent = kExactBits + static_cast<int>(above / kSubBuckets);
  const int64_t mantissa = kSubBuckets + static_cast<int64_t>(above % kSubBuckets);
  return ((mantissa + 1) << (exponent - 6)) - 1;
}

// Opening balance of each bench wallet, in whole units: transfers of at
// most 1.00 leave it far from zero for any realistic run.
constexpr const char* kOpeningBalance = "1000000";
// Largest amount of one bench movement, in minor units.
constexpr int64_t kMoveMinorMax = 100;

struct WorkerResult {
  LatencyHistogram latency;
  int64_t ops = 0;
  int64_t refused = 0;
  int64_t errors = 0;
  std::string first_error;
};

MovementInput next_movement(const BenchOptions& o, int scale, std::mt19937_64& random) {
  std::uniform_int_distribution<int64_t> wallet(0, o.wallets - 1);
  std::uniform_int_distribution<int64_t> minor(1, kMoveMinorMax);
  MovementInput in;
  in.asset = o.asset;
  in.amount = format_amount(minor(random), scale);
  in.actor = o.actor;
  in.user = bench_user(wallet(random));
  if (o.hot) {
    in.operation = Operation::deposit;
    return in;
  }
  in.operation = Operation::transfer;
  do {
    in.to_user = bench_user(wallet(random));
  } while (in.to_user == in.user);
  return in;
}

void note_error(WorkerResult& out, const std::string& message) {
  ++out.errors;
  if (out.first_error.empty()) out.first_error = message;
}

// One client: connects, waits for the others, then moves money until the
// deadline, timing each movement.
void run_client(const std::string& conninfo, const Config& config, const BenchOptions& o, int scale, uint64_t seed,
                std::latch& ready, WorkerResult& out) {
  Store store(conninfo, RetryPolicy{}, StoreOptions{config.prepared_statements});
  Ledger ledger(store, config);
  Status connected = store.connect();
  ready.arrive_and_wait();
  if (!connected.ok()) return note_error(out, connected.message());
  std::mt19937_64 random(seed);
  const auto deadline = std::chrono::steady_clock::now() + o.duration;
  while (std::chrono::steady_clock::now() < deadline) {
    const MovementInput in = next_movement(o, scale, random);
    const auto started = std::chrono::steady_clock::now();
    auto result = ledger.move(in);
    const auto took = std::chrono::steady_clock::now() - started;
    if (!result.recorded()) {
      note_error(out, result.status().message());
      continue;
    }
    out.latency.record(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
    ++out.ops;
    if (result.outcome() == Outcome::insufficient_funds) ++out.refused;
  }
}

Status check_options(const BenchOptions& o) {
  if (o.clients < 1 || o.clients > kBenchClientsMax) {
    return Status::Invalid("invalid --clients " + std::to_string(o.clients) + ": 1 to " +
                           std::to_string(kBenchClientsMax));
  }
  if (o.wallets < 2 || o.wallets > kBenchWalletsMax) {
    return Status::Invalid("invalid --wallets " + std::to_string(o.wallets) + ": 2 to " +
                           std::to_string(kBenchWalletsMax));
  }
  if (o.duration < Milliseconds{1'000} || o.duration > kBenchDurationMax) {
    return Status::Invalid("invalid --duration " + format_duration(o.duration) + ": 1s to 24h");
  }
  return validate_asset_code(o.asset);
}

BenchReport report_of(const BenchOptions& o, std::vector<WorkerResult>& results, int64_t elapsed_ms) {
  BenchReport r;
  LatencyHistogram latency;
  for (const auto& w : results) {
    latency.merge(w.latency);
    r.ops += w.ops;
    r.refused += w.refused;
    r.errors += w.errors;
    if (r.first_error.empty()) r.first_error = w.first_error;
  }
  r.clients = o.clients;
  r.wallets = o.wallets;
  r.hot = o.hot;
  r.asset = o.asset;
  r.elapsed_ms = elapsed_ms;
  r.p50_us = latency.quantile_us(0.50);
  r.p95_us = latency.quantile_us(0.95);
  r.p99_us = latency.quantile_us(0.99);
  r.max_us = latency.quantile_us(1.0);
  return r;
}

// To one decimal, as the nearest double to that decimal (so it prints short).
double one_decimal(double value) { return std::round(value * 10.0) / 10.0; }

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

void LatencyHistogram::record(int64_t microseconds) {
  ++counts_[bucket_of(microseconds)];
  ++count_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
}

int64_t LatencyHistogram::quantile_us(double q) const {
  if (count_ == 0) return 0;
  const auto rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))));
  int64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return upper_bound_of(i);
  }
  return upper_bound_of(kBuckets - 1);
}

std::string bench_user(int64_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "bench-%07lld", static_cast<long long>(index + 1));
  return buffer;
}

Status prepare_bench(Store& store, const BenchOptions& o) {
  auto added = store.asset_add(o.asset, 2, "walletctl bench", o.actor);
  if (!added.ok() && added.status().code() != Code::conflict) return added.status();
  auto scale = store.asset_scale(o.asset);
  if (!scale.ok()) return scale.status();
  std::vector<ImportLine> batch;
  for (int64_t i = 0; i < o.wallets; ++i) {
    ImportRecord record;
    record.type = RecordType::wallet;
    record.user = bench_user(i);
    record.asset = o.asset;
    record.amount = kOpeningBalance;
    auto line = import_line_of(record, i + 1, *scale, false);
    if (!line.ok()) return line.status();
    batch.push_back(std::move(*line));
    if (batch.size() < kImportBatchLinesMax && i + 1 < o.wallets) continue;
    auto results = store.import_batch(batch, o.actor, "bench");
    if (!results.ok()) return results.status();
    for (const auto& r : *results) {
      if (r.outcome != ImportOutcome::applied && r.outcome != ImportOutcome::replayed) {
        return Status::Conflict("cannot prepare the bench wallets of " + o.asset + ": " + r.message);
      }
    }
    batch.clear();
  }
  return Status::Ok();
}

Result<BenchReport> run_bench(const std::string& conninfo, const Config& config, const BenchOptions& o) {
  if (Status s = check_options(o); !s.ok()) return s;
  int scale = 0;
  {
    Store store(conninfo, RetryPolicy{}, StoreOptions{config.prepared_statements});
    if (Status s = prepare_bench(store, o); !s.ok()) return s;
    scale = *store.asset_scale(o.asset);
  }
  std::vector<WorkerResult> results(static_cast<std::size_t>(o.clients));
  std::vector<std::thread> clients;
  std::latch ready(o.clients + 1);
  std::random_device seeds;
  for (int i = 0; i < o.clients; ++i) {
    clients.emplace_back(run_client, std::cref(conninfo), std::cref(config), std::cref(o), scale,
                         (static_cast<uint64_t>(seeds()) << 32) ^ seeds(), std::ref(ready), std::ref(results[i]));
  }
  ready.arrive_and_wait();
  const auto started = std::chrono::steady_clock::now();
  for (auto& client : clients) client.join();
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return report_of(o, results, elapsed.count());
}

nlohmann::json to_json(const BenchReport& r) {
  const double seconds = static_cast<double>(std::max<int64_t>(r.elapsed_ms, 1)) / 1000.0;
  nlohmann::json j = {{"ops", r.ops},
                      {"errors", r.errors},
                      {"tps", one_decimal(static_cast<double>(r.ops) / seconds)},
                      {"p50_ms", static_cast<double>(r.p50_us) / 1000.0},
                      {"p95_ms", static_cast<double>(r.p95_us) / 1000.0},
                      {"p99_ms", static_cast<double>(r.p99_us) / 1000.0},
                      {"max_ms", static_cast<double>(r.max_us) / 1000.0},
                      {"refused", r.refused},
                      {"clients", r.clients},
                      {"wallets", r.wallets},
                      {"mode", r.hot ? "hot" : "uniform"},
                      {"asset", r.asset},
                      {"elapsed_ms", r.elapsed_ms}};
  if (!r.first_error.empty()) j["first_error"] = r.first_error;
  return j;
}

}  // namespace wallet
