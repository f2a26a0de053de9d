// Internal to the database layer (store*.cpp): runs the named statements of
// statements.cpp inside one libpqxx transaction.
//
// With prepared statements (the default) a statement is prepared on its
// connection at first use and executed by name: parsed and planned once per
// connection. Without (StoreOptions::prepared_statements = false, for
// PgBouncer in transaction pooling mode, where consecutive transactions may
// run on different server connections that never saw the PREPARE), it is
// sent as an unnamed statement with the same text and parameters
// (PQexecParams: Parse, Bind and Execute in one message sequence), which
// leaves nothing on the server connection after the transaction.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>

#include "core/store/store.hpp"

namespace wallet {

// The text of the statement `name` of sql::kStatements. The name must
// exist (a programmer error otherwise: std::logic_error).
const std::string& statement_text(std::string_view name);

class Statements {
 public:
  Statements(pqxx::transaction_base& tx, const StoreOptions& options)
      : tx_(tx), prepared_(options.prepared_statements) {}

  template <typename... Args>
  pqxx::result exec(const char* name, Args&&... args) {
    if (prepared_) return tx_.exec_prepared(name, std::forward<Args>(args)...);
    return tx_.exec_params(statement_text(name), std::forward<Args>(args)...);
  }

  // Exactly one row, else pqxx::unexpected_rows.
  template <typename... Args>
  pqxx::row exec1(const char* name, Args&&... args) {
    if (prepared_) return tx_.exec_prepared1(name, std::forward<Args>(args)...);
    return tx_.exec_params1(statement_text(name), std::forward<Args>(args)...);
  }

 private:
  pqxx::transaction_base& tx_;
  bool prepared_;
};

}  // namespace wallet
