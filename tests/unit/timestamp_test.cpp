#include <doctest/doctest.h>

#include "core/domain/timestamp.hpp"

using wallet::parse_timestamp;

TEST_CASE("timestamps: RFC 3339 with a zone, or a date taken as UTC midnight") {
  CHECK(*parse_timestamp("2026-11-01", "since") == "2026-11-01T00:00:00Z");
  CHECK(*parse_timestamp("2026-11-01T08:30:00Z", "since") == "2026-11-01T08:30:00Z");
  CHECK(*parse_timestamp("2026-11-01t08:30:00z", "since") == "2026-11-01T08:30:00Z");
  CHECK(*parse_timestamp("2026-11-01 08:30:00+08:00", "since") == "2026-11-01T08:30:00+08:00");
  CHECK(*parse_timestamp("2026-11-01T08:30:00.123456Z", "since") == "2026-11-01T08:30:00.123456Z");
  CHECK(*parse_timestamp("2026-11-01T08:30Z", "since") == "2026-11-01T08:30Z");
  CHECK(*parse_timestamp("2024-02-29", "since") == "2024-02-29T00:00:00Z");
}

TEST_CASE("timestamps: everything else is invalid input") {
  for (auto text : {"", "now", "tomorrow", "epoch", "-infinity", "99999-01-01", "2026-13-01", "2026-02-30",
                    "2025-02-29", "2026-11-01T08:30:00", "2026-11-01T25:00:00Z", "2026-11-01T08:30:00 America/New_York",
                    "2026-11-01T08:30:00+8", "1969-12-31", "2026/11/01", "2026-11-01T08:30:00.Z", " 2026-11-01"}) {
    CAPTURE(text);
    auto result = parse_timestamp(text, "since");
    CHECK_FALSE(result.ok());
    if (!result.ok()) CHECK(result.status().message().find("invalid since") == 0);
  }
}
