#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "core/store/statements.hpp"
#include "reconcile/statements.hpp"

TEST_CASE("the core's and reconcile's statements have distinct names, as they share each connection") {
  std::set<std::string> names;
  for (std::size_t i = 0; i < wallet::sql::kStatementCount; ++i) {
    CHECK(names.insert(std::string(wallet::sql::kStatements[i].name)).second);
  }
  for (std::size_t i = 0; i < wallet::reconcile_sql::kStatementCount; ++i) {
    const auto& statement = wallet::reconcile_sql::kStatements[i];
    CAPTURE(statement.name);
    CHECK(names.insert(std::string(statement.name)).second);
    CHECK(std::string(statement.name).rfind("reconcile_", 0) == 0);
    // Fragments were included at build time.
    CHECK(statement.text.find("\\ir ") == std::string_view::npos);
    CHECK(&wallet::reconcile_sql::statement(statement.name) == &statement);
  }
  CHECK(wallet::reconcile_sql::kStatementCount == 16);
  CHECK_THROWS_AS(wallet::reconcile_sql::statement("reconcile_nothing"), std::logic_error);
}
