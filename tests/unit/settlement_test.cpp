#include <doctest/doctest.h>

#include <set>

#include "core/ledger/settlement.hpp"

using namespace wallet;

TEST_CASE("settlement backoff: 1 s doubling to at most 5 min, jittered into [half, full]") {
  std::mt19937_64 random{42};
  const int64_t expected_full[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000};
  for (int attempts = 1; attempts <= 11; ++attempts) {
    const int64_t full = expected_full[attempts - 1];
    for (int i = 0; i < 200; ++i) {
      const auto delay = settlement_backoff(attempts, random).count();
      CHECK(delay >= full / 2);
      CHECK(delay <= full);
    }
  }
  // Far beyond the cap it stays capped (no overflow).
  CHECK(settlement_backoff(1000, random).count() <= kSettlementBackoffMax.count());
  // Jitter really varies.
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(settlement_backoff(3, random).count());
  CHECK(seen.size() > 10);
}

TEST_CASE("classify maps exit statuses to decisions and keeps what the command said") {
  CommandRun ok{0, 0, false, "paid"};
  CHECK(classify(ok).decision == SettlementDecision::confirmed);
  CommandRun later{75, 0, false, "busy"};
  CHECK(classify(later).decision == SettlementDecision::retry);
  CHECK(classify(later).reason.find("busy") != std::string::npos);
  CommandRun no{3, 0, false, "closed"};
  CHECK(classify(no).decision == SettlementDecision::rejected);
  CHECK(classify(no).reason.find("exit 3") != std::string::npos);
  CommandRun crashed{-1, 11, false, ""};
  CHECK(classify(crashed).decision == SettlementDecision::retry);
  CommandRun slow{-1, 9, true, ""};
  CHECK(classify(slow).reason.find("timed out") != std::string::npos);
}

TEST_CASE("a confirming command's reference is the last output line that is a JSON object with a valid one") {
  CHECK(classify(CommandRun{0, 0, false, "paid"}).reference.empty());
  CHECK(classify(CommandRun{0, 0, false, "log line\n{\"reference\": \"PAY-1\"}\n"}).reference == "PAY-1");
  CHECK(classify(CommandRun{0, 0, false, "{\"reference\": \"A\"}\n{\"reference\": \"B\"}"}).reference == "B");
  // Not a string, empty, too long, a control character: ignored.
  CHECK(classify(CommandRun{0, 0, false, "{\"reference\": 7}"}).reference.empty());
  CHECK(classify(CommandRun{0, 0, false, "{\"reference\": \"\"}"}).reference.empty());
  CHECK(classify(CommandRun{0, 0, false, "{\"reference\": \"" + std::string(141, 'x') + "\"}"}).reference.empty());
  CHECK(classify(CommandRun{0, 0, false, "{\"reference\": \"a\\u0007b\"}"}).reference.empty());
  // Only a confirmation carries one.
  CHECK(classify(CommandRun{3, 0, false, "{\"reference\": \"PAY-1\"}"}).reference.empty());
}
