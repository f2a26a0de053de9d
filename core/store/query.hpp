// The store's query helper, for the database code of core/store and of the
// modules that own their SQL (reconcile/). Internal to database code: it is
// the one header outside core/store/*.cpp that exposes libpqxx.
//
// transact() runs a piece of work in one database transaction under the
// Store's retry loop (Store::run) and hands it a Query, which executes
// statements by name: the core's (sql::kStatements) or a module's own
// sql::Statement.
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

#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/store/statements.hpp"
#include "core/store/store.hpp"

namespace wallet {

// The text of the statement `name` of sql::kStatements. The name must
// exist (a programmer error otherwise: std::logic_error).
const std::string& statement_text(std::string_view name);

class Query {
 public:
  Query(pqxx::transaction_base& tx, const StoreOptions& options)
      : tx_(tx), prepared_(options.prepared_statements) {}

  // A statement of sql::kStatements (prepared on every new connection).
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

  // A module's own statement, registered on the connection at its first
  // use there. Its name must differ from every other statement's.
  template <typename... Args>
  pqxx::result exec(const sql::Statement& statement, Args&&... args) {
    if (!prepared_) return tx_.exec_params(std::string(statement.text), std::forward<Args>(args)...);
    // libpqxx 6 only records the text here (a no-op when recorded before);
    // the server prepares it at the first execution on this connection.
    tx_.conn().prepare(std::string(statement.name), std::string(statement.text));
    return tx_.exec_prepared(std::string(statement.name), std::forward<Args>(args)...);
  }

  template <typename... Args>
  pqxx::row exec1(const sql::Statement& statement, Args&&... args) {
    const pqxx::result rows = exec(statement, std::forward<Args>(args)...);
    if (rows.size() != 1) {
      throw pqxx::unexpected_rows(std::string(statement.name) + " returned " + std::to_string(rows.size()) +
                                  " rows, expected 1");
    }
    return rows[0];
  }

 private:
  pqxx::transaction_base& tx_;
  bool prepared_;
};

// Runs `work(Query&)` in one database transaction of type Tx
// (pqxx::nontransaction: autocommit, the default; pqxx::read_transaction;
// pqxx::work; pqxx::transaction<isolation>) under `store`'s retry policy,
// commits it, and returns what `work` returned: Result<T>, or a Status when
// it returns nothing. `work` may run more than once (after a retryable
// failure) and must start from scratch each time; the value of the last,
// successful run is returned.
template <typename Tx = pqxx::nontransaction, typename Work>
auto transact(Store& store, const std::string& what, Work&& work) {
  using T = std::invoke_result_t<Work&, Query&>;
  if constexpr (std::is_void_v<T>) {
    return store.run(what, [&](pqxx::connection_base& c) {
      Tx tx(c);
      Query query(tx, store.options());
      work(query);
      tx.commit();
    });
  } else {
    std::optional<T> value;
    Status status = store.run(what, [&](pqxx::connection_base& c) {
      value.reset();
      Tx tx(c);
      Query query(tx, store.options());
      value.emplace(work(query));
      tx.commit();
    });
    if (!status.ok()) return Result<T>(status);
    return Result<T>(std::move(*value));
  }
}

// `row` as a row of exactly `columns` columns. A decoder reads columns by
// position: a statement whose columns changed without its decoder is a
// programmer error, thrown (the retry loop reports it as internal) rather
// than asserted so that release builds never read a wrong column either.
inline const pqxx::row& columns(const pqxx::row& row, pqxx::row::size_type count) {
  if (row.size() != count) {
    throw std::logic_error("a row of " + std::to_string(row.size()) + " columns where its decoder reads " +
                           std::to_string(count));
  }
  return row;
}

}  // namespace wallet
