// The bench's latency histogram: exact for small values, within 1/64 above,
// quantiles by rank, merging.
#include <doctest/doctest.h>

#include "core/bulk/bench.hpp"

using namespace wallet;

TEST_CASE("latency histogram: empty, exact small values, and rank-based quantiles") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.quantile_us(0.5) == 0);
  for (int us = 1; us <= 100; ++us) h.record(us);
  CHECK(h.count() == 100);
  CHECK(h.quantile_us(0.50) == 50);
  CHECK(h.quantile_us(0.95) == 95);
  CHECK(h.quantile_us(0.99) == 99);
  CHECK(h.quantile_us(1.0) == 100);
  CHECK(h.quantile_us(0.001) == 1);
}

TEST_CASE("latency histogram: large values within 1/64, never below the sample") {
  for (int64_t us : {128LL, 1'000LL, 4'567LL, 1'000'000LL, 123'456'789LL}) {
    LatencyHistogram h;
    h.record(us);
    const int64_t q = h.quantile_us(0.5);
    CHECK(q >= us);
    CHECK(q - us <= us / 64 + 1);
  }
  LatencyHistogram huge;
  huge.record(int64_t{1} << 50);  // beyond the last bucket: counted there
  CHECK(huge.count() == 1);
  CHECK(huge.quantile_us(1.0) > 0);
  LatencyHistogram negative;
  negative.record(-5);  // a clock step backwards counts as 0
  CHECK(negative.quantile_us(1.0) == 0);
}

TEST_CASE("latency histogram: a long tail moves p99 but not p50; merge adds counts") {
  LatencyHistogram fast, slow;
  for (int i = 0; i < 990; ++i) fast.record(2'000);
  for (int i = 0; i < 10; ++i) slow.record(50'000);
  fast.merge(slow);
  CHECK(fast.count() == 1'000);
  CHECK(fast.quantile_us(0.50) >= 2'000);
  CHECK(fast.quantile_us(0.50) < 2'100);
  CHECK(fast.quantile_us(0.99) < 2'100);
  CHECK(fast.quantile_us(0.995) >= 50'000);
}

TEST_CASE("bench users are zero-padded and 1-based") {
  CHECK(bench_user(0) == "bench-0000001");
  CHECK(bench_user(9'999) == "bench-0010000");
}
