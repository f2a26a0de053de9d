// The one table of movement kinds and transaction statuses (DESIGN §3, §4).
//
// Routing (which accounts a kind debits and credits), the settlement rule,
// the help text, the OpenAPI enums and the history filters all read it; the
// database's transactions_rules trigger accepts exactly these names
// (tests/integration/kinds_test.cpp holds the two together).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/domain/types.hpp"

namespace wallet {

enum class Kind { deposit, topup, bonus, withdraw, purchase, transfer, reversal };

enum class TransactionStatus { pending, posted, voided, failed };

// One side of a movement.
enum class Account {
  treasury,         // the asset's @treasury (issues value)
  revenue,          // the asset's @revenue (sink of purchases)
  settlement,       // the asset's @settlement (value leaving to the outside world)
  user,             // the user of the request (the sender of a transfer)
  recipient,        // the receiving user of a transfer
  original_credit,  // reversal: the account the original credited
  original_debit,   // reversal: the account the original debited
};

struct KindInfo {
  Kind kind;
  std::string_view name;
  // The command/route that makes it; nullopt: only `reverse` makes it.
  std::optional<Operation> operation;
  Account debit;
  Account credit;
  // True: with a [settlement] command configured, the movement stays
  // pending until the command confirms it (money leaving the system).
  bool settles;
};

struct StatusInfo {
  TransactionStatus status;
  std::string_view name;
};

// Every kind, in the order documented; the first kind of each operation is its default.
std::span<const KindInfo> kinds();
std::span<const StatusInfo> statuses();

const KindInfo& kind_info(Kind kind);
std::string_view kind_name(Kind kind);
std::string_view status_name(TransactionStatus status);
std::optional<Kind> parse_kind(std::string_view name);
std::optional<TransactionStatus> parse_status(std::string_view name);

// The kinds an operation may make, default first (deposit: deposit, topup, bonus).
std::vector<std::string_view> kind_names(Operation operation);
std::vector<std::string_view> kind_names();
std::vector<std::string_view> status_names();
std::string_view operation_name(Operation operation);

// "@treasury", "@revenue", "@settlement" for the system accounts.
std::string_view system_user(Account account);

// "a, b or c" (for messages and help).
std::string or_list(const std::vector<std::string_view>& names);

}  // namespace wallet
