#include "core/domain/timestamp.hpp"

#include "core/domain/validate.hpp"

namespace wallet {

namespace {

bool digits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

Result<std::string> parse_timestamp(std::string_view text, std::string_view field) {
  const auto bad = [&] {
    return Status::Invalid("invalid " + std::string(field) + " \"" + excerpt(text, 40) +
                           "\": expected RFC 3339 like 2026-11-01T08:00:00Z, or a date like 2026-11-01 (UTC)");
  };
  int year = 0, month = 0, day = 0;
  if (!digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, month) ||
      text[7] != '-' || !digits(text, 8, 2, day)) {
    return bad();
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return bad();
  if (text.size() == 10) return std::string(text) + "T00:00:00Z";
  int hour = 0, minute = 0, second = 0;
  if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, hour) ||
      text.size() < 16 || text[13] != ':' || !digits(text, 14, 2, minute)) {
    return bad();
  }
  std::size_t at = 16;
  if (at < text.size() && text[at] == ':') {
    if (!digits(text, at + 1, 2, second)) return bad();
    at += 3;
    if (at < text.size() && text[at] == '.') {
      std::size_t end = at + 1;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      if (end == at + 1 || end - at - 1 > 9) return bad();
      at = end;
    }
  }
  if (hour > 23 || minute > 59 || second > 60) return bad();
  const std::string_view zone = text.substr(at);
  int zone_hour = 0, zone_minute = 0;
  const bool utc = zone == "Z" || zone == "z";
  const bool offset = zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone, 1, 2, zone_hour) &&
                      zone[3] == ':' && digits(zone, 4, 2, zone_minute) && zone_hour <= 23 && zone_minute <= 59;
  if (!utc && !offset) return bad();
  std::string normalized(text);
  normalized[10] = 'T';
  if (utc) normalized.back() = 'Z';
  return normalized;
}

}  // namespace wallet
