// The statements of reconcile/ (reconcile/sql/*.sql, embedded at build
// time by cmake/embed_statements.cmake), run through the store's Query.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/store/statements.hpp"

namespace wallet::reconcile_sql {

// Every file of reconcile/sql, by base name, in name order.
extern const sql::Statement kStatements[];
extern const std::size_t kStatementCount;

// The statement of reconcile/sql/`name`.sql. The name must exist (a
// programmer error otherwise: std::logic_error, which the retry loop
// reports as internal).
const sql::Statement& statement(std::string_view name);

}  // namespace wallet::reconcile_sql
