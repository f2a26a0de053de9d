// libFuzzer target: core/amount (parse_amount, format_amount, checked_add).
//
// Input: byte 0 picks the scale (0..kScaleMax), bytes 1..8 are also read as
// an int64 for format_amount/checked_add, and bytes 1.. are the amount text.
// Invariants, beyond "no crash":
//  - parse_amount agrees with an independent reference parser (accepts
//    exactly ^[0-9]+(\.[0-9]{1,scale})?$ of at most kAmountTextMax bytes with
//    a value in 1..INT64_MAX, and computes the same minor units);
//  - an accepted amount formats back to canonical text that parses to the
//    same value, and the canonical text is a fixed point;
//  - every refusal is Invalid, "invalid amount ..." and one clean line;
//  - format_amount of any int64 is "-"? digits "." scale-digits, and
//    parses back for positive values; checked_add agrees with 128-bit sums.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "core/domain/amount.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using wallet::fuzz::check;

// The reference: value of `text` at `scale`, nullopt when it must be refused.
std::optional<int64_t> reference_parse(std::string_view text, int scale) {
  if (text.empty() || text.size() > wallet::kAmountTextMax) return std::nullopt;
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && fraction.empty())) return std::nullopt;
  if (fraction.size() > static_cast<std::size_t>(scale)) return std::nullopt;
  for (std::string_view part : {whole, fraction}) {
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
    }
  }
  // Whole digits, then the fraction padded to `scale` digits, in 128 bits,
  // stopping as soon as the value leaves int64.
  __int128 value = 0;
  const auto max = static_cast<__int128>(std::numeric_limits<int64_t>::max());
  std::string digits(whole);
  digits += fraction;
  digits.append(static_cast<std::size_t>(scale) - fraction.size(), '0');
  for (char c : digits) {
    value = value * 10 + (c - '0');
    if (value > max) return std::nullopt;
  }
  if (value == 0) return std::nullopt;
  return static_cast<int64_t>(value);
}

void check_formatted(int64_t minor, int scale) {
  const std::string text = wallet::format_amount(minor, scale);
  const bool negative = minor < 0;
  check(!text.empty(), "format_amount is not empty");
  check((text[0] == '-') == negative, "format_amount has a sign exactly for negatives", text);
  const std::string_view body = std::string_view(text).substr(negative ? 1 : 0);
  const auto dot = body.find('.');
  if (scale == 0) {
    check(dot == std::string_view::npos, "scale 0 formats without a point", text);
  } else {
    check(dot != std::string_view::npos && body.size() - dot - 1 == static_cast<std::size_t>(scale),
          "format_amount has exactly `scale` decimals", text);
  }
  const std::string_view whole = body.substr(0, dot);
  check(!whole.empty() && (whole.size() == 1 || whole[0] != '0'), "no leading zeros before the point", text);
  if (minor > 0) {
    auto back = wallet::parse_amount(text, scale);
    check(back.ok() && *back == minor, "a formatted positive amount parses back to itself", text);
  } else if (minor < 0 && minor != std::numeric_limits<int64_t>::min()) {
    check(wallet::format_amount(-minor, scale) == std::string(body), "the negative is the positive with a sign", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int scale = data[0] % (wallet::kScaleMax + 1);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto parsed = wallet::parse_amount(text, scale);
  const auto expected = reference_parse(text, scale);
  check(parsed.ok() == expected.has_value(), parsed.ok() ? "parse_amount accepted what the reference refuses"
                                                         : "parse_amount refused what the reference accepts",
        parsed.ok() ? text : parsed.status().message());
  if (parsed.ok()) {
    const int64_t value = parsed.value();
    check(value == *expected, "parse_amount computes the reference value", text);
    const std::string canonical = wallet::format_amount(value, scale);
    auto again = wallet::parse_amount(canonical, scale);
    check(again.ok() && *again == value, "the canonical text parses to the same value", canonical);
    check(wallet::format_amount(*again, scale) == canonical, "the canonical text is a fixed point", canonical);
    check_formatted(value, scale);
  } else {
    check(parsed.status().code() == wallet::Code::invalid, "a refused amount is invalid input");
    check(parsed.status().message().rfind("invalid amount", 0) == 0, "the message says invalid amount",
          parsed.status().message());
    wallet::fuzz::check_error_message(parsed.status());
  }

  if (size >= 1 + 2 * sizeof(int64_t)) {
    int64_t a = 0;
    int64_t b = 0;
    std::memcpy(&a, data + 1, sizeof a);
    std::memcpy(&b, data + 1 + sizeof a, sizeof b);
    check_formatted(a, scale);
    check_formatted(b, scale);
    const __int128 exact = static_cast<__int128>(a) + b;
    const bool fits = exact >= std::numeric_limits<int64_t>::min() && exact <= std::numeric_limits<int64_t>::max();
    auto sum = wallet::checked_add(a, b);
    check(sum.ok() == fits, "checked_add refuses exactly the sums outside int64");
    if (sum.ok()) check(*sum == static_cast<int64_t>(exact), "checked_add adds");
  }
  return 0;
}
