// Every SQL statement the core runs, by name. Prepared once per connection
// by the Store; the schema itself lives in sql/migrations and sql/functions,
// reconcile's statements in reconcile/sql.
#pragma once

#include <string_view>

namespace wallet::sql {

struct Statement {
  std::string_view name;
  std::string_view text;
};

// All the core's prepared statements.
extern const Statement kStatements[];
extern const std::size_t kStatementCount;

// Migration bookkeeping (run as plain statements inside the migrate transaction).
extern const std::string_view kMigrationLock;
extern const std::string_view kMigrationTable;
extern const std::string_view kMigrationApplied;
extern const std::string_view kMigrationRecord;
extern const std::string_view kMigrationExists;
// The highest migration version recorded (checked on every new connection;
// fails with undefined_table on a database never migrated).
extern const std::string_view kMigrationHighest;
// Function files: which content (sha256) of each was applied, and when.
extern const std::string_view kFunctionTable;
extern const std::string_view kFunctionApplied;
extern const std::string_view kFunctionRecord;
extern const std::string_view kFunctionExists;
// Re-applies the privilege map (sql/functions/90_privileges.sql), if it exists.
extern const std::string_view kMigrationPrivileges;

}  // namespace wallet::sql
