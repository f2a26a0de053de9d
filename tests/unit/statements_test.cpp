#include <doctest/doctest.h>

#include <filesystem>
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
    const std::string name(statement.name);
    // A prefix per family: the checks (reconcile_), digests, statement matching, point in time.
    CHECK((name.rfind("reconcile_", 0) == 0 || name.rfind("digest_", 0) == 0 || name.rfind("statement_", 0) == 0 ||
           name.rfind("point_in_time_", 0) == 0));
    // Fragments were included at build time.
    CHECK(statement.text.find("\\ir ") == std::string_view::npos);
    CHECK(&wallet::reconcile_sql::statement(statement.name) == &statement);
  }
  // One statement per file of reconcile/sql (fragments aside).
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(WALLET_SOURCE_DIR "/reconcile/sql")) {
    files += entry.path().extension() == ".sql" ? 1 : 0;
  }
  CHECK(wallet::reconcile_sql::kStatementCount == files);
  CHECK_THROWS_AS(wallet::reconcile_sql::statement("reconcile_nothing"), std::logic_error);
}
