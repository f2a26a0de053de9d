#include "reconcile/statements.hpp"

#include <stdexcept>
#include <string>

namespace wallet::reconcile_sql {

const sql::Statement& statement(std::string_view name) {
  for (std::size_t i = 0; i < kStatementCount; ++i) {
    if (kStatements[i].name == name) return kStatements[i];
  }
  throw std::logic_error("statement " + std::string(name) + " not in reconcile/sql");
}

}  // namespace wallet::reconcile_sql
