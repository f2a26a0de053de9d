// Timestamps as users type them for --since/--until: RFC 3339 with a zone
// ("2026-11-01T08:00:00Z", "...+08:00", fractions allowed) or a date
// ("2026-11-01", midnight UTC). Nothing else: no "now", no zone names, no
// zone-less times (those would depend on the session's time zone).
#pragma once

#include <string>
#include <string_view>

#include "core/domain/status.hpp"

namespace wallet {

// The timestamp as RFC 3339 text with an explicit offset, for PostgreSQL;
// Invalid with a one-line reason otherwise.
Result<std::string> parse_timestamp(std::string_view text, std::string_view field);

}  // namespace wallet
