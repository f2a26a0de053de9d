// The schema migrations shipped inside the binaries (sql/migrations/*.sql).
#pragma once

#include <string_view>
#include <vector>

namespace wallet {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every migration, in ascending version order.
const std::vector<Migration>& migrations();

}  // namespace wallet
