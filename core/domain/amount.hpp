// Exact decimal amounts as int64 minor units of an asset's scale.
//
// No floating point: "10.50" at scale 2 is 1050. Parsing accepts only
// digits with an optional '.' and at most `scale` decimals; it rejects zero,
// signs, exponents, separators, spaces, hex, empty text and overflow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/domain/status.hpp"

namespace wallet {

// Largest scale an asset may have: 10^18 still fits in int64.
inline constexpr int kScaleMax = 18;
// Longest amount text accepted; longer input cannot fit in int64 anyway.
inline constexpr std::size_t kAmountTextMax = 40;

// Parses a positive amount. Invalid (with a one-line reason) otherwise.
Result<int64_t> parse_amount(std::string_view text, int scale);

// Formats minor units with exactly `scale` decimals ("-10.50"). Any int64.
std::string format_amount(int64_t minor, int scale);

// a + b, or Invalid("amount overflow") when it does not fit in int64.
Result<int64_t> checked_add(int64_t a, int64_t b);

}  // namespace wallet
