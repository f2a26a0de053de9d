#include <doctest/doctest.h>

#include <limits>

#include "core/domain/amount.hpp"

using wallet::Code;
using wallet::format_amount;
using wallet::parse_amount;

TEST_CASE("parse_amount reads decimals exactly into minor units") {
  CHECK(*parse_amount("10.50", 2) == 1050);
  CHECK(*parse_amount("10.5", 2) == 1050);
  CHECK(*parse_amount("10", 2) == 1000);
  CHECK(*parse_amount("0.01", 2) == 1);
  CHECK(*parse_amount("7", 0) == 7);
  CHECK(*parse_amount("007", 0) == 7);
  CHECK(*parse_amount("1.000000000000000001", 18) == 1'000'000'000'000'000'001);
  CHECK(*parse_amount("9223372036854775807", 0) == std::numeric_limits<int64_t>::max());
  CHECK(*parse_amount("92233720368547758.07", 2) == std::numeric_limits<int64_t>::max());
}

TEST_CASE("parse_amount rejects every malformed form with invalid input") {
  const char* bad[] = {"",      "0",     "0.00",  "-1",     "+1",       "1e3",   "1E3",      "1,000",
                       "1 000", " 1",    "1 ",    "0x10",   "abc",      ".5",    "5.",       "1.2.3",
                       "1.001", "NaN",   "inf",   "١٢",     "1_000",    "--1",   "1.-1",     "9223372036854775808",
                       "92233720368547758.08", "99999999999999999999999999999999999999999999"};
  for (const char* text : bad) {
    CAPTURE(text);
    auto result = parse_amount(text, 2);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == Code::invalid);
    CHECK(result.status().message().find("invalid amount") == 0);
  }
  CHECK_FALSE(parse_amount("1.5", 0).ok());
  CHECK(parse_amount("1.5", 0).status().message().find("no decimals") != std::string::npos);
}

TEST_CASE("format_amount shows exactly the asset's scale, signed") {
  CHECK(format_amount(1050, 2) == "10.50");
  CHECK(format_amount(1, 2) == "0.01");
  CHECK(format_amount(0, 2) == "0.00");
  CHECK(format_amount(-1, 2) == "-0.01");
  CHECK(format_amount(-1050, 2) == "-10.50");
  CHECK(format_amount(7, 0) == "7");
  CHECK(format_amount(-7, 0) == "-7");
  CHECK(format_amount(std::numeric_limits<int64_t>::min(), 0) == "-9223372036854775808");
  CHECK(format_amount(std::numeric_limits<int64_t>::min(), 18) == "-9.223372036854775808");
}

TEST_CASE("format and parse round-trip for every scale") {
  for (int scale = 0; scale <= wallet::kScaleMax; ++scale) {
    for (int64_t value : {int64_t{1}, int64_t{9}, int64_t{10}, int64_t{123456789},
                          std::numeric_limits<int64_t>::max()}) {
      CAPTURE(scale);
      CAPTURE(value);
      auto parsed = parse_amount(format_amount(value, scale), scale);
      REQUIRE(parsed.ok());
      CHECK(*parsed == value);
    }
  }
}

TEST_CASE("checked_add refuses overflow") {
  CHECK(*wallet::checked_add(1, 2) == 3);
  CHECK_FALSE(wallet::checked_add(std::numeric_limits<int64_t>::max(), 1).ok());
  CHECK_FALSE(wallet::checked_add(std::numeric_limits<int64_t>::min(), -1).ok());
}
