// The ledger as it was: balances at a past instant (`walletctl balance
// --at`, walletd's `?at=`), a wallet's account statement for a period
// (`walletctl statement`), and hledger-style balance assertions checked
// against it (`walletctl reconcile --assert FILE`). Read-only; exact for any
// instant because every figure is summed from the immutable ledger entries.
//
// Time of a movement: its entries' created_at (the start of the database
// transaction that made them). Both entries of a movement have the same
// time, so no instant sees one without the other. A balance at T includes
// the entries at or before T; a statement for [since, until) opens with the
// entries before `since` and closes with those before `until`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/domain/types.hpp"
#include "core/store/store.hpp"

namespace wallet {

// Balances of a user's wallets (those created at or before `at`) at `at`
// (RFC 3339 or a date). Reserved: the holds that were pending at `at`
// (created at or before it, posted or voided after it, or still pending).
Result<std::vector<Balance>> balances_at(Store& store, const std::string& user, const std::optional<std::string>& asset,
                                         const std::string& at);

struct StatementEntry {
  int64_t transaction_id = 0;
  std::string kind;
  std::string counterparty;
  int64_t amount = 0;  // signed: negative left the wallet
  int64_t balance_after = 0;
  std::string created_at;
  std::string memo;
};

struct AccountStatement {
  std::string user, asset, since, until;
  int scale = 0;
  int64_t opening = 0;
  int64_t total_in = 0;
  int64_t total_out = 0;  // positive
  int64_t closing = 0;    // opening + total_in - total_out, always
  std::vector<StatementEntry> entries;
};

// Most entries one statement lists (a month of a busy wallet fits).
inline constexpr int64_t kAccountStatementEntriesMax = 1'000'000;

// The statement of user's wallet in `asset` for [since, until). NotFound
// when the user has no wallet in the asset; Invalid for bad times or
// until <= since, or more than kAccountStatementEntriesMax entries.
Result<AccountStatement> account_statement(Store& store, const std::string& user, const std::string& asset,
                                           const std::string& since, const std::string& until);

nlohmann::json to_json(const AccountStatement& statement);

struct BalanceAssertion {
  int64_t line = 0;
  std::string user, asset, at;
  std::string expected;  // as written
  std::optional<std::string> actual;  // nullopt: no such wallet then (holds only for an expected 0)
  bool holds = false;
};

// Checks each assertion of FILE: lines "USER ASSET BALANCE AT" (spaces,
// tabs or commas between fields; '#' starts a comment). BALANCE is the
// posted balance in the asset's decimals (may be negative for system
// accounts, may be 0). Invalid, naming FILE:LINE, for a malformed line.
Result<std::vector<BalanceAssertion>> check_assertions(Store& store, const std::string& path);

nlohmann::json to_json(const BalanceAssertion& assertion);

}  // namespace wallet
