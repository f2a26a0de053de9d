// The SQL shipped inside the binaries: versioned migrations
// (sql/migrations/*.sql) and repeatable function files (sql/functions/*.sql),
// embedded at build time by cmake/embed_sql.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace wallet {

// A versioned migration: applied once, recorded in schema_migrations.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// A function file: the one live definition of a family of functions,
// applied again whenever its content (sha256) differs from the one recorded
// in schema_functions. Its statements are safe to run again.
struct FunctionFile {
  std::string_view name;    // file name, e.g. "30_movement.sql"
  std::string_view sha256;  // hex SHA-256 of the file's content
  std::string_view sql;
};

// Every migration, in ascending version order.
const std::vector<Migration>& migrations();
// Every function file, in apply (file name) order.
const std::vector<FunctionFile>& function_files();

// Throws std::runtime_error (naming the migration and the release to use)
// when the database records a migration newer than this binary ships; a
// binary never runs against a schema it does not know. A database never
// migrated passes. Called on every new connection (one query).
void require_known_schema(pqxx::connection_base& connection);

}  // namespace wallet
