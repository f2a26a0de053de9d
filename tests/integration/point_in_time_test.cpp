// Balances at a point in time, account statements and balance assertions,
// checked against a replay of the history recorded as it was made.
#include <filesystem>
#include <fstream>

#include "reconcile/point_in_time.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

struct Snapshot {
  std::string at;  // the instant of the operation (its database time)
  std::map<std::string, std::pair<int64_t, int64_t>> state;  // user -> (balance, reserved)
};

std::string shifted(test::Fixture& f, const std::string& at, const std::string& shift) {
  pqxx::nontransaction tx(f.admin);
  return tx.exec1("SELECT to_char((" + f.admin.quote(at) + "::timestamptz + " + f.admin.quote(shift) +
                  "::interval) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")[0]
      .as<std::string>();
}

// The database time of the last change to transaction `id`: its entries,
// else (a hold created or voided) its last update.
std::string time_of(test::Fixture& f, int64_t id) {
  pqxx::nontransaction tx(f.admin);
  return tx.exec1("SELECT to_char(coalesce((SELECT max(created_at) FROM ledger_entries WHERE transaction_id = t.id "
                  " AND created_at >= t.updated_at), t.updated_at) AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM transactions t WHERE t.id = " + std::to_string(id))[0]
      .as<std::string>();
}

}  // namespace

TEST_CASE("balance --at equals a replay of the history at every instant, holds and a partial post included") {
  test::Fixture f;
  const std::string a = f.asset(2);
  f.wallet("alice", a);
  f.wallet("bob", a);
  std::vector<Snapshot> history;
  const auto snapshot = [&](int64_t transaction_id) {
    Snapshot s;
    s.at = time_of(f, transaction_id);
    for (const std::string user : {"alice", "bob"}) {
      auto b = f.ledger.balances(user, a);
      REQUIRE(b.ok());
      s.state[user] = {b->front().balance, b->front().reserved};
    }
    history.push_back(s);
  };
  snapshot(f.deposit("alice", a, "100.00").transaction_id);
  auto transfer = f.move(Operation::transfer, "alice", a, "30.00", test::fresh_key(), "bob");
  REQUIRE(transfer.ok());
  snapshot(transfer->transaction_id);
  MovementInput hold = test::movement(Operation::transfer, "alice", a, "25.00", "bob");
  hold.pending = true;
  auto held = f.ledger.move(hold);
  REQUIRE(held.ok());
  snapshot(held->transaction_id);
  REQUIRE(f.ledger.post(std::to_string(held->transaction_id), "10.00", "tester").ok());  // partial post
  snapshot(held->transaction_id);
  auto second_hold = f.ledger.move(hold);
  REQUIRE(second_hold.ok());
  snapshot(second_hold->transaction_id);
  REQUIRE(f.ledger.void_transaction(std::to_string(second_hold->transaction_id), "no", "tester").ok());
  snapshot(second_hold->transaction_id);
  auto back = f.move(Operation::transfer, "bob", a, "5.00", test::fresh_key(), "alice");
  REQUIRE(back.ok());
  snapshot(back->transaction_id);

  int checked = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    // At the operation's instant its effect is visible; a microsecond
    // before, the state after the previous one (nothing before the first).
    for (const auto& [at, expected_index] :
         {std::pair{history[i].at, static_cast<int>(i)}, std::pair{shifted(f, history[i].at, "-1 microsecond"),
                                                                   static_cast<int>(i) - 1}}) {
      for (const std::string user : {"alice", "bob"}) {
        auto got = balances_at(f.store, user, a, at);
        REQUIRE_MESSAGE(got.ok(), got.status().message());
        const auto expected =
            expected_index < 0 ? std::pair<int64_t, int64_t>{0, 0} : history[expected_index].state.at(user);
        INFO(user << " at " << at << " (after operation " << expected_index << ")");
        if (got->empty()) {
          CHECK(expected == std::pair<int64_t, int64_t>{0, 0});
        } else {
          CHECK(got->front().balance == expected.first);
          CHECK(got->front().reserved == expected.second);
        }
        ++checked;
      }
    }
  }
  CHECK(checked == static_cast<int>(history.size()) * 4);
  // Both entries of the transfer carry one instant: no moment sees half of it.
  auto alice_before = balances_at(f.store, "alice", a, shifted(f, history[1].at, "-1 microsecond"));
  auto bob_before = balances_at(f.store, "bob", a, shifted(f, history[1].at, "-1 microsecond"));
  auto alice_at = balances_at(f.store, "alice", a, history[1].at);
  auto bob_at = balances_at(f.store, "bob", a, history[1].at);
  REQUIRE((alice_before.ok() && bob_before.ok() && alice_at.ok() && bob_at.ok()));
  CHECK(bob_before->empty() == false);
  CHECK(alice_before->front().balance + bob_before->front().balance ==
        alice_at->front().balance + bob_at->front().balance);
  CHECK(balances_at(f.store, "alice", a, "yesterday").status().code() == Code::invalid);
  // As balance: an unknown user or wallet is not found; a wallet that did not exist yet is an empty list.
  CHECK(balances_at(f.store, "nobody-" + a, std::nullopt, history[1].at).status().code() == Code::not_found);
  CHECK(balances_at(f.store, "alice", std::string("NOSUCH"), history[1].at).status().code() == Code::not_found);
  auto before_all = balances_at(f.store, "alice", a, "2000-01-01");
  REQUIRE(before_all.ok());
  CHECK(before_all->empty());
}

TEST_CASE("account statement: opening plus entries is the closing balance; assertions name what fails") {
  test::Fixture f;
  const std::string a = f.asset(2);
  f.wallet("alice", a);
  f.wallet("bob", a);
  const Movement first = f.deposit("alice", a, "50.00");
  const std::string start = shifted(f, time_of(f, first.transaction_id), "1 microsecond");
  f.deposit("alice", a, "20.00");
  REQUIRE(f.move(Operation::transfer, "alice", a, "15.50", test::fresh_key(), "bob").ok());
  REQUIRE(f.move(Operation::withdraw, "alice", a, "4.50", test::fresh_key()).ok());
  auto s = account_statement(f.store, "alice", a, start, "2100-01-01");
  REQUIRE_MESSAGE(s.ok(), s.status().message());
  CHECK(s->opening == 5000);
  REQUIRE(s->entries.size() == 3);
  CHECK(s->entries[0].amount == 2000);
  CHECK(s->entries[1].counterparty == "bob");
  CHECK(s->entries[2].balance_after == 5000);
  CHECK(s->total_in == 2000);
  CHECK(s->total_out == 2000);
  CHECK(s->closing == s->opening + s->total_in - s->total_out);
  CHECK(s->closing == f.balance_minor("alice", a));
  CHECK(account_statement(f.store, "carol", a, start, "2100-01-01").status().code() == Code::not_found);
  CHECK(account_statement(f.store, "alice", a, "2100-01-01", start).status().code() == Code::invalid);

  const auto path = std::filesystem::temp_directory_path() / (test::fresh_key() + ".assert");
  std::ofstream(path) << "# balances the bank confirmed\n"
                      << "alice " << a << " 50.00 " << start << "\n"
                      << "alice, " << a << ", 60.00, 2100-01-01\n"
                      << "bob " << a << " 0 2000-01-01\n";
  auto results = check_assertions(f.store, path.string());
  REQUIRE_MESSAGE(results.ok(), results.status().message());
  REQUIRE(results->size() == 3);
  CHECK((*results)[0].holds);
  CHECK_FALSE((*results)[1].holds);
  CHECK((*results)[1].line == 3);
  CHECK(*(*results)[1].actual == "50.00");
  CHECK((*results)[2].holds);  // no wallet yet: nothing in it
  std::ofstream(path) << "alice " << a << " 1.234 2100-01-01\n";
  CHECK(check_assertions(f.store, path.string()).status().message().rfind(path.string() + ":1: invalid amount", 0) == 0);
}
