// The kinds and statuses table (core/domain/kinds.hpp) against what the
// database accepts: the transactions_rules trigger (or any CHECK on
// transactions) lists exactly the same names, every name of the table can
// be stored, and a name outside it is refused.
#include <pqxx/pqxx>
#include <regex>
#include <set>

#include "core/domain/kinds.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

// The quoted names in every "<column> [NOT] IN (...)" or
// "<column> = ANY (ARRAY[...])" of the rules on transactions: its trigger
// functions and its CHECK constraints.
std::set<std::string> names_in_rules(pqxx::connection& admin, const std::string& column) {
  pqxx::nontransaction tx(admin);
  std::string rules;
  for (const auto& row : tx.exec(
           "SELECT pg_get_functiondef(t.tgfoid) FROM pg_trigger t "
           "WHERE t.tgrelid = 'transactions'::regclass AND NOT t.tgisinternal "
           "UNION ALL SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
           "WHERE c.conrelid = 'transactions'::regclass AND c.contype = 'c'")) {
    rules += row[0].as<std::string>() + "\n";
  }
  std::set<std::string> names;
  const std::regex list("\\b" + column + R"(\)?\s+(?:NOT\s+IN|IN)\s*\(([^)]*)\)|\b)" + column +
                            R"(\)?\s*=\s*ANY\s*\(\(?ARRAY\[([^\]]*)\])",
                        std::regex::icase);
  const std::regex literal(R"('([^']*)')");
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), list); it != std::sregex_iterator(); ++it) {
    const std::string items = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
    for (auto l = std::sregex_iterator(items.begin(), items.end(), literal); l != std::sregex_iterator(); ++l) {
      names.insert((*l)[1].str());
    }
  }
  return names;
}

template <typename Names>
std::set<std::string> as_set(const Names& names) {
  return {names.begin(), names.end()};
}

// Inserts a copy of transaction `model` with this kind and status, in a
// subtransaction that is rolled back; the SQLSTATE of the refusal, or "".
std::string store_copy(pqxx::work& tx, int64_t model, const std::string& kind, const std::string& status) {
  pqxx::subtransaction attempt(tx, "copy");
  try {
    attempt.exec("INSERT INTO transactions(idempotency_key, fingerprint, kind, status, asset, debit_wallet_id, "
                 "credit_wallet_id, amount, posted_amount, error_code, reverses_id, expires_at) "
                 "SELECT 'kinds-test-' || gen_random_uuid(), fingerprint, " + tx.quote(kind) + ", " +
                 tx.quote(status) + ", asset, debit_wallet_id, credit_wallet_id, amount, "
                 // What the other rules on a new row ask: posted_amount exactly when
                 // posted, reverses_id exactly on a reversal, an expiry on a hold.
                 "CASE WHEN " + tx.quote(status) + " = 'posted' THEN posted_amount END, "
                 "CASE WHEN " + tx.quote(status) + " = 'failed' THEN 'insufficient_funds' END, "
                 "CASE WHEN " + tx.quote(kind) + " = 'reversal' THEN id END, "
                 "CASE WHEN " + tx.quote(status) + " = 'pending' THEN now() + interval '1 hour' END "
                 "FROM transactions WHERE id = " + std::to_string(model));
    attempt.abort();
    return "";
  } catch (const pqxx::sql_error& error) {
    attempt.abort();
    return error.sqlstate();
  }
}

}  // namespace

TEST_CASE("the database's rules list exactly the kinds and statuses of the kinds table") {
  test::Fixture f;
  const auto kinds_sql = names_in_rules(f.admin, "kind");
  const auto statuses_sql = names_in_rules(f.admin, "status");
  REQUIRE_MESSAGE(!kinds_sql.empty(), "found no list of kinds in the rules on transactions");
  REQUIRE_MESSAGE(!statuses_sql.empty(), "found no list of statuses in the rules on transactions");
  CHECK(kinds_sql == as_set(kind_names()));
  CHECK(statuses_sql == as_set(status_names()));
}

TEST_CASE("every kind and status of the table can be stored; others are refused by the database") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  const int64_t model = f.deposit("alice", asset, "5").transaction_id;
  pqxx::work tx(f.admin);
  for (const auto& kind : kind_names()) CHECK_MESSAGE(store_copy(tx, model, std::string(kind), "posted").empty(), kind);
  for (const auto& status : status_names()) {
    // A transaction never starts voided (the transition table); the test
    // above holds the list of statuses to the rules.
    if (status == "voided") continue;
    CHECK_MESSAGE(store_copy(tx, model, "deposit", std::string(status)).empty(), status);
  }
  for (const char* kind : {"fee", "refund", "Deposit", ""}) CHECK_MESSAGE(store_copy(tx, model, kind, "posted") == "23514", kind);
  for (const char* status : {"settled", "Posted", ""}) CHECK_MESSAGE(store_copy(tx, model, "deposit", status) == "23514", status);
  tx.abort();
  CHECK(f.scalar("SELECT count(*) FROM transactions WHERE idempotency_key LIKE 'kinds-test-%'") == 0);
}
