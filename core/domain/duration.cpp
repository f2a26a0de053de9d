#include "core/domain/duration.hpp"

#include <cstdint>

#include "core/domain/validate.hpp"

namespace wallet {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t milliseconds;
};
// Longest suffix first so that "ms" is not read as "m".
constexpr Unit kUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000},
};

Status bad(std::string_view text) {
  return Status::Invalid("invalid duration \"" + excerpt(text, 40) +
                         "\": expected e.g. 30s, 15m, 24h, 1h30m, 500ms");
}

}  // namespace

Result<Milliseconds> parse_duration(std::string_view text) {
  if (text.empty() || text.size() > 40) return bad(text);
  int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    int64_t number = 0;
    const std::size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      if (number > kDurationMax.count()) return bad(text);
      ++i;
    }
    if (i == digits_start) return bad(text);
    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits) {
      if (text.substr(i, candidate.suffix.size()) == candidate.suffix) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) return bad(text);
    i += unit->suffix.size();
    if (number > kDurationMax.count() / unit->milliseconds) return bad(text);
    total += number * unit->milliseconds;
    if (total > kDurationMax.count()) return bad(text);
  }
  return Milliseconds{total};
}

std::string format_duration(Milliseconds duration) {
  int64_t rest = duration.count();
  if (rest == 0) return "0s";
  std::string text;
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    // kUnits reversed: d h m s ms.
    if (rest >= it->milliseconds) {
      text += std::to_string(rest / it->milliseconds) + std::string(it->suffix);
      rest %= it->milliseconds;
    }
  }
  return text;
}

}  // namespace wallet
