// Every documented input bound (the LIMITS table of walletctl(1) and the
// README), at the bound and one past it. The core validates before it
// touches the database, so against an unreachable database a value at the
// bound gets as far as the connection (temporary) and one past it is
// refused as invalid input with a one-line message.
#include <doctest/doctest.h>

#include <sstream>

#include <algorithm>

#include "cli/app.hpp"
#include "core/domain/amount.hpp"
#include "core/bulk/bench.hpp"
#include "core/config/config.hpp"
#include "core/bulk/import_format.hpp"
#include "core/ledger/ledger.hpp"
#include "core/domain/validate.hpp"
#include "reconcile/reconcile.hpp"

using namespace wallet;

namespace {

struct Offline {
  Config config;
  Store store{"host=/nonexistent/socket-dir port=1 connect_timeout=1",
              RetryPolicy{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1)}};
  Ledger ledger{store, config};
};

// Passed validation: it failed only because the database is unreachable.
bool passes(const Status& status) { return status.code() == Code::temporary; }

// Refused as invalid input with a one-line message that names the field.
bool refused(const Status& status, const std::string& field) {
  return status.code() == Code::invalid && status.message().find('\n') == std::string::npos &&
         status.message().find(field) != std::string::npos;
}

template <typename T>
Status status_of(const Result<T>& result) {
  return result.ok() ? Status::Ok() : result.status();
}
Status status_of(const MovementOutcome& outcome) { return outcome.status(); }

MovementInput deposit(const std::string& user, const std::string& asset) {
  MovementInput in;
  in.operation = Operation::deposit;
  in.user = user;
  in.asset = asset;
  in.amount = "1";
  in.actor = "tester";
  return in;
}

std::string repeat(const std::string& piece, std::size_t times) {
  std::string text;
  for (std::size_t i = 0; i < times; ++i) text += piece;
  return text;
}

}  // namespace

TEST_CASE("user ids and asset codes: at the bound accepted, one past refused") {
  Offline o;
  CHECK(passes(status_of(o.ledger.wallet_create(std::string(kUserIdMax, 'u'), "GC", "tester"))));
  CHECK(refused(status_of(o.ledger.wallet_create(std::string(kUserIdMax + 1, 'u'), "GC", "tester")), "1 to 64"));
  CHECK(passes(status_of(o.ledger.wallet_create("alice", std::string(kAssetCodeMax, 'A'), "tester"))));
  CHECK(refused(status_of(o.ledger.wallet_create("alice", std::string(kAssetCodeMax + 1, 'A'), "tester")),
                "2 to 12"));
  CHECK(refused(status_of(o.ledger.wallet_create("alice", "A", "tester")), "2 to 12"));
  CHECK(passes(status_of(o.ledger.balances(std::string(kUserIdMax, 'u'), std::nullopt))));
  CHECK(refused(status_of(o.ledger.balances(std::string(kUserIdMax + 1, 'u'), std::nullopt)), "user"));
}

TEST_CASE("idempotency keys, memos and reasons: at the bound accepted, one past refused") {
  Offline o;
  MovementInput in = deposit("alice", "GC");
  in.idempotency_key = std::string(kIdempotencyKeyMax, 'k');
  CHECK(passes(status_of(o.ledger.move(in))));
  in.idempotency_key += 'k';
  CHECK(refused(status_of(o.ledger.move(in)), "1 to 128"));

  in = deposit("alice", "GC");
  in.memo = std::string(kMemoMax, 'm');
  CHECK(passes(status_of(o.ledger.move(in))));
  in.memo = repeat("\xc3\xa9", kMemoMax / 2);  // 250 two-byte characters: 500 bytes
  CHECK(passes(status_of(o.ledger.move(in))));
  in.memo = std::string(kMemoMax + 1, 'm');
  CHECK(refused(status_of(o.ledger.move(in)), "at most 500 bytes"));
  in.memo = std::string(kMemoMax - 1, 'm') + "\xc3\xa9";  // 501 bytes in 500 characters
  CHECK(refused(status_of(o.ledger.move(in)), "at most 500 bytes"));

  CHECK(passes(status_of(o.ledger.void_transaction("1", std::string(kReasonMax, 'r'), "tester"))));
  CHECK(refused(status_of(o.ledger.void_transaction("1", std::string(kReasonMax + 1, 'r'), "tester")), "reason"));
  CHECK(passes(status_of(o.ledger.reverse("1", std::string(kIdempotencyKeyMax, 'k'), "tester"))));
  CHECK(refused(status_of(o.ledger.reverse("1", std::string(kIdempotencyKeyMax + 1, 'k'), "tester")), "key"));
}

TEST_CASE("asset names, actors and transaction ids: at the bound accepted, one past refused") {
  Offline o;
  CHECK(passes(status_of(o.ledger.asset_add("GC", 0, std::string(kAssetNameMax, 'n'), "tester"))));
  CHECK(refused(status_of(o.ledger.asset_add("GC", 0, std::string(kAssetNameMax + 1, 'n'), "tester")),
                "at most 200 bytes"));
  CHECK(passes(status_of(o.ledger.asset_add("GC", kScaleMax, "", "tester"))));
  CHECK(refused(status_of(o.ledger.asset_add("GC", kScaleMax + 1, "", "tester")), "0 to 18"));
  CHECK(validate_actor(std::string(kActorMax, 'a')).ok());
  CHECK(refused(validate_actor(std::string(kActorMax + 1, 'a')), "actor"));
  CHECK(passes(status_of(o.ledger.transaction("999999999999999999"))));  // 18 digits
  CHECK(refused(status_of(o.ledger.transaction("1000000000000000000")), "transaction id"));
}

TEST_CASE("amount text: 40 characters accepted, 41 refused") {
  auto at = parse_amount(std::string(kAmountTextMax - 1, '0') + "7", 0);
  REQUIRE(at.ok());
  CHECK(*at == 7);
  auto past = parse_amount(std::string(kAmountTextMax, '0') + "7", 0);
  CHECK(refused(status_of(past), "too long"));
}

TEST_CASE("listing limits: history, audit and retry") {
  Offline o;
  HistoryQuery h;
  h.user = "alice";
  h.limit = kHistoryLimitMax;
  CHECK(passes(status_of(o.ledger.history(h, ""))));
  h.limit = kHistoryLimitMax + 1;
  CHECK(refused(status_of(o.ledger.history(h, "")), "1 to 1000"));
  h.limit = 0;
  CHECK(refused(status_of(o.ledger.history(h, "")), "1 to 1000"));

  AuditQuery a;
  a.limit = kAuditLimitMax;
  a.actor = std::string(kActorMax, 'a');
  CHECK(passes(status_of(o.ledger.audit(a))));
  a.limit = kAuditLimitMax + 1;
  CHECK(refused(status_of(o.ledger.audit(a)), "1 to 10000"));
  a.limit = 10;
  a.actor = std::string(kActorMax + 1, 'a');
  CHECK(refused(status_of(o.ledger.audit(a)), "actor"));

  CHECK(passes(status_of(retry(o.store, nullptr, kRetryLimitMax, true, "tester"))));
  CHECK(refused(status_of(retry(o.store, nullptr, kRetryLimitMax + 1, true, "tester")), "1 to 100000"));
  CHECK(refused(status_of(retry(o.store, nullptr, 0, false, "tester")), "1 to 100000"));
}

TEST_CASE("bench options past their bounds are refused before connecting") {
  Config config;
  const std::string offline = "host=/nonexistent/socket-dir port=1 connect_timeout=1";
  BenchOptions b;
  b.clients = kBenchClientsMax + 1;
  CHECK(refused(status_of(run_bench(offline, config, b)), "--clients"));
  b = {};
  b.wallets = kBenchWalletsMax + 1;
  CHECK(refused(status_of(run_bench(offline, config, b)), "--wallets"));
  b = {};
  b.duration = kBenchDurationMax + Milliseconds{1};
  CHECK(refused(status_of(run_bench(offline, config, b)), "--duration"));
}

TEST_CASE("an import line of exactly the bound is read; one byte more is too long") {
  std::istringstream in(std::string(kImportLineBytesMax, 'x') + "\n" + std::string(kImportLineBytesMax + 1, 'y') +
                        "\nlast\n");
  LineReader reader(in);
  std::string line;
  CHECK(reader.next(line) == LineReader::Next::line);
  CHECK(line.size() == kImportLineBytesMax);
  CHECK(reader.next(line) == LineReader::Next::too_long);
  CHECK(reader.next(line) == LineReader::Next::line);
  CHECK(line == "last");
}

TEST_CASE("walletd's body limit: 1 KiB to 16 MiB") {
  Config config;
  CHECK(apply_config_text("[daemon]\nbody_bytes_max = 16777216\n", "test.toml", config).ok());
  CHECK(config.daemon.body_bytes_max == 16 << 20);
  CHECK(apply_config_text("[daemon]\nbody_bytes_max = 1024\n", "test.toml", config).ok());
  CHECK_FALSE(apply_config_text("[daemon]\nbody_bytes_max = 16777217\n", "test.toml", config).ok());
  CHECK_FALSE(apply_config_text("[daemon]\nbody_bytes_max = 1023\n", "test.toml", config).ok());
}

TEST_CASE("walletctl: a flag one past its bound is exit 2 with one line") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"history", "--user", "alice", "--limit", "1001"},
           {"audit", "--limit", "10001"},
           {"audit", "--actor", std::string(kActorMax + 1, 'a')},
           {"retry", "--limit", "100001"},
           {"retry", "--limit", "0"},
           {"bench", "--clients", "257"},
           {"bench", "--wallets", "1000001"},
           {"bench", "--duration", "25h"},
           {"--actor", std::string(kActorMax + 1, 'a'), "balance", "--user", "alice"},
           {"void", "1", "--reason", std::string(kReasonMax + 1, 'r')},
           {"deposit", "--user", std::string(kUserIdMax + 1, 'u'), "--asset", "GC", "--amount", "1"},
           {"deposit", "--user", "alice", "--asset", "GC", "--amount", "1", "--memo", std::string(kMemoMax + 1, 'm')},
           {"deposit", "--user", "alice", "--asset", "GC", "--amount", "1", "--key",
            std::string(kIdempotencyKeyMax + 1, 'k')},
           {"asset", "add", "GC", "--scale", "2", "--name", std::string(kAssetNameMax + 1, 'n')},
       }) {
    CAPTURE(args[0]);
    CAPTURE(args[1]);
    std::vector<const char*> argv = {"walletctl"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    const auto environment = [](const char* name) -> const char* {
      if (std::string(name) == "HOME") return "/nonexistent";
      if (std::string(name) == "WALLETCTL_DATABASE") return "host=/nonexistent/socket-dir port=1 connect_timeout=1";
      return nullptr;
    };
    const int code = cli::run_cli(static_cast<int>(argv.size()), argv.data(), out, err, environment);
    const std::string message = err.str();
    CHECK(code == 2);
    CHECK(message.rfind("walletctl: ", 0) == 0);
    CHECK(std::count(message.begin(), message.end(), '\n') == 1);
  }
}
