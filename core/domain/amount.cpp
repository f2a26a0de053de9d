#include "core/domain/amount.hpp"

#include <cassert>
#include <limits>

#include "core/domain/validate.hpp"

namespace wallet {

namespace {

Status bad(std::string_view text, std::string_view why) {
  return Status::Invalid("invalid amount \"" + excerpt(text, kAmountTextMax) + "\": " + std::string(why));
}

// value * 10 + digit, false on int64 overflow.
bool push_digit(int64_t& value, int digit) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (value > (kMax - digit) / 10) return false;
  value = value * 10 + digit;
  return true;
}

}  // namespace

Result<int64_t> parse_amount(std::string_view text, int scale) {
  assert(scale >= 0 && scale <= kScaleMax);
  if (text.empty()) return bad(text, "empty");
  if (text.size() > kAmountTextMax) return bad(text, "too long");
  if (text.front() == '-') return bad(text, "must be positive");
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty()) return bad(text, "expected digits before the decimal point");
  if (dot != std::string_view::npos && fraction.empty()) {
    return bad(text, "expected digits after the decimal point");
  }
  for (std::string_view part : {whole, fraction}) {
    for (char c : part) {
      if (c < '0' || c > '9') {
        return bad(text, "expected a plain decimal number like 10 or 10.50");
      }
    }
  }
  if (static_cast<int>(fraction.size()) > scale) {
    return bad(text, scale == 0 ? "this asset has no decimals"
                                : "at most " + std::to_string(scale) + " decimals for this asset");
  }
  int64_t value = 0;
  for (char c : whole) {
    if (!push_digit(value, c - '0')) return bad(text, "too large");
  }
  for (int i = 0; i < scale; ++i) {
    const int digit = i < static_cast<int>(fraction.size()) ? fraction[i] - '0' : 0;
    if (!push_digit(value, digit)) return bad(text, "too large");
  }
  if (value == 0) return bad(text, "must be greater than zero");
  return value;
}

std::string format_amount(int64_t minor, int scale) {
  assert(scale >= 0 && scale <= kScaleMax);
  const bool negative = minor < 0;
  // Work in unsigned so that INT64_MIN formats without overflow.
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  const std::string digits = std::to_string(magnitude);
  const auto decimals = static_cast<std::size_t>(scale);
  // Left-pad so there is at least one digit before the point.
  const std::size_t padding = digits.size() <= decimals ? decimals + 1 - digits.size() : 0;
  const std::string padded = std::string(padding, '0') + digits;
  std::string text = negative ? "-" : "";
  text += padded.substr(0, padded.size() - decimals);
  if (decimals > 0) {
    text += '.';
    text += padded.substr(padded.size() - decimals);
  }
  return text;
}

Result<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return Status::Invalid("amount overflow");
  return sum;
}

}  // namespace wallet
