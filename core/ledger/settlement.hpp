// Settlement of withdrawals with the outside world (DESIGN §4).
//
// The configured command gets the transaction as JSON on stdin and answers
// by exit status: 0 confirmed (post), 75 EX_TEMPFAIL / a timeout / a crash
// (try again later), anything else rejected (void with the reason). Its
// stdout and stderr are captured, bounded, for last_error and the log. A
// confirming command may print a line {"reference": "..."}: the provider's
// id for the payout, stored on the withdrawal (when it has none).
//
// The command does not inherit the environment of walletctl or walletd,
// which holds the ledger's own secrets (PGPASSWORD, WALLETCTL_DATABASE):
// it gets the variables of kSettlementInheritedVariables that are set, then
// the configured `[settlement] env` entries (see settlement_environment).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/domain/duration.hpp"
#include "core/domain/status.hpp"

namespace wallet {

// Output kept from a settlement command: enough for an error message,
// bounded so a chatty command cannot fill the database or memory.
inline constexpr std::size_t kCommandOutputMax = 2000;
// Retry schedule of deferred settlements: 1 s, doubling, at most 5 min.
inline constexpr Milliseconds kSettlementBackoffFirst{1000};
inline constexpr Milliseconds kSettlementBackoffMax{5 * 60 * 1000};

// What a shell and an ordinary program need to find commands and to format
// text and dates. Nothing else of the parent's environment is passed on.
inline constexpr std::array<const char*, 5> kSettlementInheritedVariables = {"PATH", "HOME", "LANG", "LC_ALL",
                                                                             "TZ"};

// The environment of a settlement command, as "NAME=VALUE" strings: each
// variable of kSettlementInheritedVariables that `lookup` finds set, then
// every `configured` entry (a configured name replaces an inherited one).
// `lookup` reads the parent's environment (injectable for tests).
std::vector<std::string> settlement_environment(const std::map<std::string, std::string>& configured,
                                                const std::function<const char*(const char*)>& lookup);

struct CommandRun {
  int exit_status = -1;    // when it exited
  int signal = 0;          // when a signal ended it
  bool timed_out = false;  // killed at its timeout
  std::string output;      // stdout and stderr, at most kCommandOutputMax bytes
};

// Runs `command` with /bin/sh -c in its own process group and exactly the
// variables of `environment` ("NAME=VALUE"), writes `input` to its stdin,
// and waits at most `timeout`; then kills the whole group. Internal error
// only when the command cannot be started at all.
Result<CommandRun> run_command(const std::string& command, const std::string& input, Milliseconds timeout,
                               const std::vector<std::string>& environment);

enum class SettlementDecision { confirmed, retry, rejected };

struct SettlementOutcome {
  SettlementDecision decision = SettlementDecision::retry;
  std::string reason;  // for last_error: what the command said or why it failed
  // confirmed: the reference of the last output line that is a JSON object
  // with a valid "reference" string; empty: none.
  std::string reference;
};

// The decision for a finished run (pure; see the header comment).
SettlementOutcome classify(const CommandRun& run);

// Delay before the next attempt after `attempts` attempts (1, 2, …):
// min(1 s × 2^(attempts-1), 5 min), jittered uniformly into [half, full].
Milliseconds settlement_backoff(int attempts, std::mt19937_64& random);

}  // namespace wallet
