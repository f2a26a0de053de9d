// Two-phase transfers, reversals and settlement against a real PostgreSQL.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "reconcile/reconcile.hpp"
#include "support.hpp"

using namespace wallet;
using test::fresh_key;

namespace {

Movement hold(test::Fixture& f, Operation op, const std::string& user, const std::string& asset,
              const std::string& amount, const std::string& to = "", std::optional<Milliseconds> timeout = {}) {
  MovementInput in;
  in.operation = op;
  in.user = user;
  in.to_user = to;
  in.asset = asset;
  in.amount = amount;
  in.pending = true;
  in.timeout = timeout;
  in.idempotency_key = fresh_key();
  in.actor = "tester";
  auto result = f.ledger.move(in);
  REQUIRE_MESSAGE(result.ok(), result.status().message());
  REQUIRE(result->status == "pending");
  return *result;
}

int64_t reserved_minor(test::Fixture& f, const std::string& user, const std::string& asset) {
  return f.scalar("SELECT reserved FROM wallets WHERE user_id = '" + user + "' AND asset = '" + asset + "'");
}

// A settlement command that appends each call to a log and answers with the
// exit codes listed in a file, one per call (the last one repeats).
struct ScriptedSettlement {
  std::filesystem::path dir;
  Config config;

  explicit ScriptedSettlement(const std::string& answers, const std::string& timeout = "5s") {
    dir = std::filesystem::temp_directory_path() / ("walletctl-settle-" + test::fresh_asset_code());
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "answers") << answers;
    // Calls are counted per transaction, so that other pending withdrawals
    // in the database do not shift the answers.
    std::ofstream(dir / "settle.sh")
        << "#!/bin/sh\n"
           "id=$(sed -n 's/.*\"transaction_id\":\\([0-9]*\\).*/\\1/p')\n"
           "log=" << dir.string() << "/calls.$id\n"
           "n=0; [ -f \"$log\" ] && n=$(wc -l < \"$log\")\n"
           "echo call >> \"$log\"\n"
           "code=$(sed -n \"$((n + 1))p\" " << (dir / "answers").string() << ")\n"
           "[ -n \"$code\" ] || code=$(tail -n 1 " << (dir / "answers").string() << ")\n"
           "echo \"answer $code\"\n"
           "[ \"$code\" = hang ] && exec sleep 30\n"
           "exit \"$code\"\n";
    std::filesystem::permissions(dir / "settle.sh", std::filesystem::perms::owner_all);
    config.settlement_command = (dir / "settle.sh").string();
    config.settlement_timeout = *parse_duration(timeout);
  }
  ~ScriptedSettlement() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  int calls(int64_t transaction_id) const {
    std::ifstream in(dir / ("calls." + std::to_string(transaction_id)));
    int n = 0;
    std::string line;
    while (std::getline(in, line)) ++n;
    return n;
  }
  int calls_total() const {
    int n = 0;
    for (const auto& file : std::filesystem::directory_iterator(dir)) {
      if (file.path().filename().string().rfind("calls.", 0) == 0) {
        std::ifstream in(file.path());
        std::string line;
        while (std::getline(in, line)) ++n;
      }
    }
    return n;
  }
};

// A wallet "alice" with 100 of a fresh asset, and a withdrawal of 30 from it
// through `ledger` (which has the scripted settlement command).
struct SettledWithdrawal {
  std::string asset;
  MovementOutcome result = Status::Internal("not run");
};

SettledWithdrawal withdraw_30(test::Fixture& f, Ledger& ledger, const std::string& kind = "") {
  SettledWithdrawal w;
  w.asset = f.asset(0);
  f.wallet("alice", w.asset);
  f.deposit("alice", w.asset, "100");
  MovementInput in;
  in.operation = Operation::withdraw;
  in.user = "alice";
  in.asset = w.asset;
  in.amount = "30";
  in.kind = kind;
  in.actor = "tester";
  w.result = ledger.move(in);
  REQUIRE_MESSAGE(w.result.recorded(), w.result.status().message());
  return w;
}

}  // namespace

TEST_CASE("a hold reserves without moving; post moves all or part and releases the rest") {
  test::Fixture f;
  const std::string asset = f.asset(2);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  f.deposit("alice", asset, "100");
  Movement h = hold(f, Operation::transfer, "alice", asset, "30", "bob");
  CHECK(h.expires_at.has_value());
  CHECK(f.balance_minor("alice", asset) == 10000);
  CHECK(reserved_minor(f, "alice", asset) == 3000);
  // Available is what a hold leaves: 70 more can be held or spent, not 71.
  auto over = f.move(Operation::withdraw, "alice", asset, "70.01", fresh_key());
  REQUIRE(over.recorded());
  CHECK(over.outcome() == Outcome::insufficient_funds);
  CHECK(over->status == "failed");
  CHECK(f.balance_minor("bob", asset) == 0);

  auto posted = f.ledger.post(std::to_string(h.transaction_id), "20.50", "tester");
  REQUIRE_MESSAGE(posted.ok(), posted.status().message());
  CHECK(posted->status == "posted");
  CHECK(*posted->posted_amount == 2050);
  CHECK(f.balance_minor("alice", asset) == 7950);
  CHECK(f.balance_minor("bob", asset) == 2050);
  CHECK(reserved_minor(f, "alice", asset) == 0);
  f.check_invariants(asset);
}

TEST_CASE("post and void: the same action again is a no-op, the opposite one a conflict") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.deposit("alice", asset, "50");
  const std::string posted_id = std::to_string(hold(f, Operation::withdraw, "alice", asset, "10").transaction_id);
  REQUIRE(f.ledger.post(posted_id, "", "tester").ok());
  const int64_t entries = f.entry_count(asset);
  auto again = f.ledger.post(posted_id, "", "tester");
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(f.ledger.post(posted_id, "5", "tester").status().code() == Code::conflict);
  CHECK(f.ledger.void_transaction(posted_id, "", "tester").status().code() == Code::conflict);
  CHECK(f.entry_count(asset) == entries);

  const std::string voided_id = std::to_string(hold(f, Operation::withdraw, "alice", asset, "10").transaction_id);
  auto voided = f.ledger.void_transaction(voided_id, "customer cancelled", "tester");
  REQUIRE(voided.ok());
  CHECK(voided->status == "voided");
  CHECK(reserved_minor(f, "alice", asset) == 0);
  CHECK(f.ledger.void_transaction(voided_id, "", "tester")->replayed);
  CHECK(f.ledger.post(voided_id, "", "tester").status().code() == Code::conflict);
  auto shown = f.ledger.transaction(voided_id);
  CHECK(shown->last_error == std::optional<std::string>("customer cancelled"));

  const std::string big = std::to_string(hold(f, Operation::withdraw, "alice", asset, "10").transaction_id);
  CHECK(f.ledger.post(big, "11", "tester").status().code() == Code::invalid);
  CHECK(f.ledger.post(big, "0", "tester").status().code() == Code::invalid);
  CHECK(f.ledger.post("999999999", "", "tester").status().code() == Code::not_found);
  CHECK(f.balance_minor("alice", asset) == 40);
  f.check_invariants(asset);
}

TEST_CASE("an expired hold cannot be posted; retry voids it and releases the funds") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  f.deposit("alice", asset, "50");
  Movement h = hold(f, Operation::transfer, "alice", asset, "20", "bob", Milliseconds{1000});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto late = f.ledger.post(std::to_string(h.transaction_id), "", "tester");
  CHECK(late.status().code() == Code::conflict);
  CHECK(late.status().message().find("expired") != std::string::npos);

  auto report = retry(f.store, nullptr, 100000, false, "tester");
  REQUIRE(report.ok());
  bool voided = false;
  for (const auto& a : report->actions) voided = voided || (a.transaction_id == h.transaction_id && a.status == "voided");
  CHECK(voided);
  CHECK(reserved_minor(f, "alice", asset) == 0);
  CHECK(f.ledger.post(std::to_string(h.transaction_id), "", "tester").status().code() == Code::conflict);
  CHECK(f.balance_minor("alice", asset) == 50);
  f.check_invariants(asset);
}

TEST_CASE("reverse undoes a posted transaction exactly once, even when operators race") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.wallet("bob", asset);
  f.deposit("alice", asset, "100");
  auto transfer = f.move(Operation::transfer, "alice", asset, "40", fresh_key(), "bob");
  REQUIRE(transfer.ok());
  const std::string id = std::to_string(transfer->transaction_id);

  std::atomic<int> reversed{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Store store(test::conninfo());
      Config config;
      Ledger ledger(store, config);
      auto r = ledger.reverse(id, "rev-" + id + "-" + std::to_string(i), "operator" + std::to_string(i));
      if (r.ok() && r->status == "posted") ++reversed;
      else if (!r.ok() && r.status().code() == Code::conflict) ++conflicts;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(reversed == 1);
  CHECK(conflicts == 7);
  CHECK(other == 0);
  CHECK(f.balance_minor("alice", asset) == 100);
  CHECK(f.balance_minor("bob", asset) == 0);

  // A replay of the winning key is a no-op success.
  int64_t winner = f.scalar("SELECT id FROM transactions WHERE reverses_id = " + id);
  auto key = f.ledger.transaction(std::to_string(winner))->movement.idempotency_key;
  auto replay = f.ledger.reverse(id, key, "tester");
  REQUIRE(replay.ok());
  CHECK(replay->replayed);
  CHECK(f.ledger.reverse(std::to_string(winner), "", "tester").status().code() == Code::conflict);
  f.check_invariants(asset);
}

TEST_CASE("a reversal refused for funds can be retried once the funds are there") {
  test::Fixture f;
  const std::string asset = f.asset(0);
  f.wallet("alice", asset);
  f.deposit("alice", asset, "10");
  auto deposit = f.move(Operation::deposit, "alice", asset, "5", fresh_key());
  REQUIRE(f.move(Operation::withdraw, "alice", asset, "12", fresh_key()).ok());  // leaves 3
  auto refused = f.ledger.reverse(std::to_string(deposit->transaction_id), "", "tester");
  REQUIRE(refused.recorded());
  CHECK(refused.outcome() == Outcome::insufficient_funds);
  CHECK(refused->status == "failed");
  f.deposit("alice", asset, "2");
  auto reversed = f.ledger.reverse(std::to_string(deposit->transaction_id), "", "tester");
  REQUIRE(reversed.ok());
  CHECK(reversed->status == "posted");
  CHECK(f.balance_minor("alice", asset) == 0);
  f.check_invariants(asset);
}

TEST_CASE("settlement answering 75 twice then 0 ends posted after retries") {
  test::Fixture f;
  ScriptedSettlement script("75\n75\n0\n");
  Ledger ledger(f.store, script.config);
  auto setup = withdraw_30(f, ledger);
  const std::string asset = setup.asset;
  auto& w = setup.result;
  CHECK(w->status == "pending");
  CHECK_FALSE(w->expires_at.has_value());  // settlements never expire
  CHECK(reserved_minor(f, "alice", asset) == 30);
  auto detail = ledger.transaction(std::to_string(w->transaction_id));
  CHECK(detail->attempts == 1);
  CHECK(detail->last_error->find("exit 75") != std::string::npos);
  CHECK(detail->last_error->find("answer 75") != std::string::npos);  // the command's output is kept

  for (int round = 0; round < 2; ++round) {
    // Make the next attempt due now instead of waiting out the backoff.
    f.scalar("UPDATE transactions SET next_attempt_at = now() WHERE id = " + std::to_string(w->transaction_id) +
             " RETURNING 1");
    auto report = retry(f.store, ledger.settlement(), 100000, false, "tester");
    REQUIRE(report.ok());
  }
  detail = ledger.transaction(std::to_string(w->transaction_id));
  CHECK(detail->movement.status == "posted");
  CHECK(detail->attempts == 3);
  CHECK(script.calls(w->transaction_id) == 3);
  CHECK(f.balance_minor("alice", asset) == 70);
  CHECK(f.balance_minor("@settlement", asset) == 30);
  CHECK(reserved_minor(f, "alice", asset) == 0);
  f.check_invariants(asset);
}

TEST_CASE("settlement answering 1 voids the withdrawal and releases the funds") {
  test::Fixture f;
  ScriptedSettlement script("1\n");
  Ledger ledger(f.store, script.config);
  auto setup = withdraw_30(f, ledger);
  const std::string asset = setup.asset;
  auto& w = setup.result;
  CHECK(w->status == "voided");
  CHECK(w.outcome() == Outcome::rejected);
  CHECK(w.status().code() == Code::conflict);
  CHECK(w->error_message.find("rejected (exit 1)") != std::string::npos);
  CHECK(f.balance_minor("alice", asset) == 100);
  CHECK(reserved_minor(f, "alice", asset) == 0);
  // Purchases never leave the system: no settlement for them.
  auto purchase = withdraw_30(f, ledger, "purchase");
  CHECK(purchase.result->status == "posted");
  CHECK(script.calls_total() == 1);
  f.check_invariants(asset);
}

TEST_CASE("a hanging settlement command is killed at its timeout and the withdrawal stays pending") {
  test::Fixture f;
  ScriptedSettlement script("hang\n", "1s");
  Ledger ledger(f.store, script.config);
  const auto started = std::chrono::steady_clock::now();
  auto setup = withdraw_30(f, ledger);
  const auto took = std::chrono::steady_clock::now() - started;
  const std::string asset = setup.asset;
  auto& w = setup.result;
  CHECK(w->status == "pending");
  CHECK(took < std::chrono::seconds(10));  // not the command's 30 s: it was killed
  auto detail = ledger.transaction(std::to_string(w->transaction_id));
  CHECK(detail->last_error->find("timed out") != std::string::npos);
  CHECK(detail->next_attempt_at.has_value());
  CHECK(reserved_minor(f, "alice", asset) == 30);
  // Leave the database clean for the other tests: the operator voids it.
  REQUIRE(ledger.void_transaction(std::to_string(w->transaction_id), "test cleanup", "tester").ok());
  f.check_invariants(asset);
}

TEST_CASE("run_command: exit status, signals, bounded output, and no process left behind") {
  auto ok = run_command("cat; echo done", "hello", Milliseconds{5000}, {});
  REQUIRE(ok.ok());
  CHECK(ok->exit_status == 0);
  CHECK(ok->output == "hellodone");
  auto chatty = run_command("head -c 100000 /dev/zero | tr '\\\\0' x", "", Milliseconds{5000}, {"PATH=/usr/bin:/bin"});
  CHECK(chatty->output.size() == kCommandOutputMax);
  auto killed = run_command("kill -9 $$", "", Milliseconds{5000}, {});
  CHECK(killed->signal == 9);
  CHECK(classify(*killed).decision == SettlementDecision::retry);
  auto slow = run_command("sleep 30 & sleep 30", "", Milliseconds{300}, {"PATH=/usr/bin:/bin"});
  CHECK(slow->timed_out);
  CHECK(classify(*slow).decision == SettlementDecision::retry);
  CHECK(classify(CommandRun{0, 0, false, ""}).decision == SettlementDecision::confirmed);
  CHECK(classify(CommandRun{75, 0, false, ""}).decision == SettlementDecision::retry);
  CHECK(classify(CommandRun{2, 0, false, "no"}).decision == SettlementDecision::rejected);
  CHECK(classify(CommandRun{127, 0, false, ""}).decision == SettlementDecision::retry);
}

TEST_CASE("settlement command sees only the inherited allowlist and [settlement] env, never the ledger's secrets") {
  // The parent's environment as a test sees it: secrets beside the allowlist.
  const std::map<std::string, std::string> parent = {
      {"PATH", "/usr/bin:/bin"}, {"HOME", "/home/payout"}, {"LANG", "C.UTF-8"}, {"TZ", "UTC"},
      {"PGPASSWORD", "hunter2"}, {"WALLETCTL_DATABASE", "postgresql://u:hunter2@db/wallet"},
      {"AWS_SECRET_ACCESS_KEY", "s3cr3t"}};
  const auto lookup = [&](const char* name) -> const char* {
    auto it = parent.find(name);
    return it == parent.end() ? nullptr : it->second.c_str();
  };
  const std::map<std::string, std::string> configured = {{"PAYOUT_URL", "https://payout.example/v1"},
                                                         {"TZ", "Asia/Singapore"}};
  const auto environment = settlement_environment(configured, lookup);
  auto run = run_command("env", "", Milliseconds{5000}, environment);
  REQUIRE(run.ok());
  REQUIRE(run->exit_status == 0);
  std::set<std::string> seen;
  std::istringstream lines(run->output);
  for (std::string line; std::getline(lines, line);) {
    // The shell itself may add PWD, SHLVL and _; nothing else may appear.
    const std::string name = line.substr(0, line.find('='));
    if (name != "PWD" && name != "SHLVL" && name != "_") seen.insert(line);
  }
  const std::set<std::string> expected = {"PATH=/usr/bin:/bin", "HOME=/home/payout", "LANG=C.UTF-8",
                                          "TZ=Asia/Singapore", "PAYOUT_URL=https://payout.example/v1"};
  CHECK(seen == expected);
  CHECK(run->output.find("hunter2") == std::string::npos);
  CHECK(run->output.find("s3cr3t") == std::string::npos);
}
