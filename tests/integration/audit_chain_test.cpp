// The audit chain (0011_audit_chain.sql): many threads writing movements at
// once spread over the stripes, and every stripe's chain stays gap-free and
// recomputes; reconcile --full verifies it; the application role cannot
// write the chain heads. (Tampering as a table owner, and digest verify,
// are in tests/e2e/digest_test.sh, on a database of their own.)
#include <atomic>
#include <chrono>
#include <thread>

#include "reconcile/reconcile.hpp"
#include "support.hpp"

using namespace wallet;

namespace {

// Rows of every stripe that do not continue their predecessor: seq not one
// more, or a hash that does not recompute. Run as the superuser.
int64_t broken_links(test::Fixture& f) {
  return f.scalar(
      "SELECT count(*) FROM (SELECT a.seq, a.hash, lag(a.seq, 1, 0::bigint) OVER w AS prev_seq, "
      "  wallet_audit_expected_hash(lag(a.hash, 1, '\\x'::bytea) OVER w, a) AS expected "
      "  FROM audit_log a WHERE a.stripe IS NOT NULL WINDOW w AS (PARTITION BY a.stripe ORDER BY a.seq)) x "
      "WHERE x.seq <> x.prev_seq + 1 OR x.hash IS DISTINCT FROM x.expected");
}

// Stripes whose head in audit_chains is not their last row.
int64_t stale_heads(test::Fixture& f) {
  return f.scalar(
      "SELECT count(*) FROM audit_chains c LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM audit_log a "
      "WHERE a.stripe = c.stripe ORDER BY a.seq DESC LIMIT 1) l ON true "
      "WHERE c.seq <> coalesce(l.seq, 0) OR c.hash <> coalesce(l.hash, '\\x'::bytea)");
}

}  // namespace

TEST_CASE("audit chain: movements from many threads spread over the stripes; every stripe is gap-free and verifies") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  constexpr int kUsers = 6, kThreads = 12, kPerThread = 30;
  for (int u = 0; u < kUsers; ++u) f.wallet("u" + std::to_string(u), asset);
  const int64_t rows_before = f.scalar("SELECT count(*) FROM audit_log WHERE stripe IS NOT NULL");
  const int64_t heads_before = f.scalar("SELECT sum(seq) FROM audit_chains");
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Config config;
      Store store(test::conninfo());
      Ledger ledger(store, config);
      for (int i = 0; i < kPerThread; ++i) {
        // Deposits and transfers (some refused for funds: audited too).
        const bool deposit = i % 3 == 0;
        MovementInput in = test::movement(deposit ? Operation::deposit : Operation::transfer,
                                          "u" + std::to_string((t + i) % kUsers), asset, deposit ? "5" : "2",
                                          deposit ? "" : "u" + std::to_string((t + i + 1) % kUsers));
        auto r = ledger.move(in);
        if (!r.ok() && r.status().code() != Code::insufficient_funds) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);

  // One audit row per movement, all chained.
  const int64_t rows_after = f.scalar("SELECT count(*) FROM audit_log WHERE stripe IS NOT NULL");
  CHECK(rows_after - rows_before >= kThreads * kPerThread);
  CHECK(f.scalar("SELECT sum(seq) FROM audit_chains") - heads_before == rows_after - rows_before);
  // Every stripe from seq 1, gap-free, each hash recomputing from its
  // predecessor's, and its head the last row.
  CHECK(broken_links(f) == 0);
  CHECK(stale_heads(f) == 0);
  CHECK(f.scalar("SELECT count(*) FROM (SELECT stripe FROM audit_log WHERE stripe IS NOT NULL GROUP BY stripe "
                 "HAVING min(seq) <> 1 OR max(seq) <> count(*)) s") == 0);
  // The load was spread: concurrent movements took more than one stripe.
  CHECK(f.scalar("SELECT count(DISTINCT a.stripe) FROM audit_log a JOIN transactions t ON t.id = a.transaction_id "
                 "WHERE t.asset = '" + asset + "'") > 1);
  f.check_invariants(asset);

  // reconcile --full recomputes the same chains (as the verifier).
  auto report = reconcile(f.verifier, true, Milliseconds{3'600'000}, {});
  REQUIRE_MESSAGE(report.ok(), report.status().message());
  for (const auto& d : report->drift) CHECK_MESSAGE(d.check != "audit", d.detail);
  CHECK(report->audit_rows == f.scalar("SELECT count(*) FROM audit_log WHERE stripe IS NOT NULL AND seq IS NOT NULL"));
}

TEST_CASE("audit chain: movements wait for a busy stripe instead of failing (all stripes locked)") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  constexpr int kUsers = 6;
  for (int u = 0; u < kUsers; ++u) f.wallet("busy" + std::to_string(u), asset);
  pqxx::work blocker(f.admin);
  CHECK(blocker.exec("SELECT stripe FROM audit_chains FOR UPDATE").size() == 16);
  std::atomic<int> posted{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int u = 0; u < kUsers; ++u) {
    threads.emplace_back([&, u] {
      Config config;
      Store store(test::conninfo());
      Ledger ledger(store, config);
      auto r = ledger.move(test::movement(Operation::deposit, "busy" + std::to_string(u), asset, "1"));
      if (r.ok() && r->status == "posted") {
        ++posted;
      } else {
        ++failed;
        const std::string why = r.ok() ? r->status : r.status().message();
        MESSAGE(why);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(posted == 0);  // every movement waits for its audit row's stripe
  blocker.commit();
  for (auto& t : threads) t.join();
  CHECK(posted == kUsers);
  CHECK(failed == 0);
  CHECK(broken_links(f) == 0);
  CHECK(stale_heads(f) == 0);
  f.check_invariants(asset);
}

TEST_CASE("audit chain: the trigger sets stripe, seq and hash whatever the insert says, one stripe per transaction") {
  test::Fixture f;
  pqxx::work tx(f.admin);
  // Two rows in one transaction, the first claiming a seq and hash of its
  // own: both land on the same stripe, consecutive, hashed by the trigger.
  auto first = tx.exec1(
      "INSERT INTO audit_log(actor, action, outcome, stripe, seq, hash) "
      "VALUES ('tester', 'test.audit', 'ok', 3, 999, '\\x00') RETURNING id, stripe, seq");
  auto second = tx.exec1(
      "INSERT INTO audit_log(actor, action, outcome, message) VALUES ('tester', 'test.audit', 'ok', NULL) "
      "RETURNING id, stripe, seq");
  const auto hashed = [&](int64_t id) {
    return tx.exec1("SELECT a.hash = wallet_audit_hash(coalesce((SELECT p.hash FROM audit_log p WHERE p.stripe = a.stripe "
                    "AND p.seq = a.seq - 1), '\\x'::bytea), a) FROM audit_log a WHERE a.id = " + std::to_string(id))[0]
        .as<bool>();
  };
  CHECK(hashed(first[0].as<int64_t>()));
  CHECK(hashed(second[0].as<int64_t>()));
  CHECK(first[2].as<int64_t>() != 999);
  CHECK(second[1].as<int>() == first[1].as<int>());
  CHECK(second[2].as<int64_t>() == first[2].as<int64_t>() + 1);
  tx.abort();  // leaves the chain as it was
  CHECK(stale_heads(f) == 0);
}

TEST_CASE("audit chain: the application role and the verifier may read the chain heads but never write them") {
  test::Fixture f;
  for (const std::string& conninfo : {test::conninfo(), test::verifier_conninfo()}) {
    pqxx::connection reader(conninfo);
    {
      pqxx::work tx(reader);
      CHECK(tx.exec1("SELECT count(*) FROM audit_chains")[0].as<int64_t>() == 16);
    }
    for (const char* sql : {"UPDATE audit_chains SET seq = 0", "DELETE FROM audit_chains",
                            "INSERT INTO audit_chains(stripe) VALUES (99)", "TRUNCATE audit_chains"}) {
      pqxx::work tx(reader);
      CHECK_THROWS_AS(tx.exec(sql), pqxx::insufficient_privilege);
    }
  }
  CHECK(stale_heads(f) == 0);
}
