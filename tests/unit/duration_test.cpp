#include <doctest/doctest.h>

#include "core/domain/duration.hpp"

using wallet::format_duration;
using wallet::Milliseconds;
using wallet::parse_duration;

TEST_CASE("parse_duration reads operator durations") {
  CHECK(*parse_duration("30s") == Milliseconds{30'000});
  CHECK(*parse_duration("15m") == Milliseconds{900'000});
  CHECK(*parse_duration("24h") == Milliseconds{86'400'000});
  CHECK(*parse_duration("1h30m") == Milliseconds{5'400'000});
  CHECK(*parse_duration("500ms") == Milliseconds{500});
  CHECK(*parse_duration("2d") == Milliseconds{172'800'000});
  CHECK(*parse_duration("0s") == Milliseconds{0});
}

TEST_CASE("parse_duration rejects malformed and absurd durations") {
  for (const char* text : {"", "30", "s", "-5s", "5 s", "5sec", "1.5h", "h1", "99999999999999999999s",
                           "100000d", "5S"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_duration(text).ok());
  }
}

TEST_CASE("format_duration round-trips") {
  for (auto text : {"1d1h1m1s1ms", "30s", "1h30m", "500ms", "0s"}) {
    CHECK(format_duration(*parse_duration(text)) == text);
  }
}
