// Durations as operators write them: "30s", "15m", "24h", "1h30m", "500ms", "7d".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/domain/status.hpp"

namespace wallet {

using Milliseconds = std::chrono::milliseconds;

// Longest duration accepted anywhere (10 years): keeps every sum far from
// overflow and catches typos like "24000000h".
inline constexpr Milliseconds kDurationMax{10LL * 366 * 24 * 3600 * 1000};

// Parses one or more <digits><unit> groups, unit one of ms s m h d. Zero is
// allowed ("0s"); a bare number, a sign, spaces or an unknown unit is Invalid.
Result<Milliseconds> parse_duration(std::string_view text);

// Shortest text that parse_duration reads back as the same value ("1h30m").
std::string format_duration(Milliseconds duration);

}  // namespace wallet
