#include "core/domain/kinds.hpp"

#include <cassert>

namespace wallet {

namespace {

// The kinds of DESIGN §4. Adding one: a row here, its name in the
// transactions_rules trigger (sql/), and walletctl(1)'s table.
constexpr KindInfo kKinds[] = {
    {Kind::deposit, "deposit", Operation::deposit, Account::treasury, Account::user, false},
    {Kind::topup, "topup", Operation::deposit, Account::treasury, Account::user, false},
    {Kind::bonus, "bonus", Operation::deposit, Account::treasury, Account::user, false},
    {Kind::withdraw, "withdraw", Operation::withdraw, Account::user, Account::settlement, true},
    {Kind::purchase, "purchase", Operation::withdraw, Account::user, Account::revenue, false},
    {Kind::transfer, "transfer", Operation::transfer, Account::user, Account::recipient, false},
    {Kind::reversal, "reversal", std::nullopt, Account::original_credit, Account::original_debit, false},
};

constexpr StatusInfo kStatuses[] = {
    {TransactionStatus::pending, "pending"},
    {TransactionStatus::posted, "posted"},
    {TransactionStatus::voided, "voided"},
    {TransactionStatus::failed, "failed"},
};

}  // namespace

std::span<const KindInfo> kinds() { return kKinds; }
std::span<const StatusInfo> statuses() { return kStatuses; }

const KindInfo& kind_info(Kind kind) {
  for (const auto& row : kKinds) {
    if (row.kind == kind) return row;
  }
  assert(false && "every Kind has a row in kKinds");
  return kKinds[0];
}

std::string_view kind_name(Kind kind) { return kind_info(kind).name; }

std::string_view status_name(TransactionStatus status) {
  for (const auto& row : kStatuses) {
    if (row.status == status) return row.name;
  }
  assert(false && "every TransactionStatus has a row in kStatuses");
  return kStatuses[0].name;
}

std::optional<Kind> parse_kind(std::string_view name) {
  for (const auto& row : kKinds) {
    if (row.name == name) return row.kind;
  }
  return std::nullopt;
}

std::optional<TransactionStatus> parse_status(std::string_view name) {
  for (const auto& row : kStatuses) {
    if (row.name == name) return row.status;
  }
  return std::nullopt;
}

std::vector<std::string_view> kind_names(Operation operation) {
  std::vector<std::string_view> names;
  for (const auto& row : kKinds) {
    if (row.operation == operation) names.push_back(row.name);
  }
  return names;
}

std::vector<std::string_view> kind_names() {
  std::vector<std::string_view> names;
  for (const auto& row : kKinds) names.push_back(row.name);
  return names;
}

std::vector<std::string_view> status_names() {
  std::vector<std::string_view> names;
  for (const auto& row : kStatuses) names.push_back(row.name);
  return names;
}

std::string_view operation_name(Operation operation) {
  switch (operation) {
    case Operation::deposit: return "deposit";
    case Operation::withdraw: return "withdraw";
    case Operation::transfer: return "transfer";
  }
  assert(false && "unknown Operation");
  return "?";
}

std::string_view system_user(Account account) {
  switch (account) {
    case Account::treasury: return "@treasury";
    case Account::revenue: return "@revenue";
    case Account::settlement: return "@settlement";
    default: break;
  }
  assert(false && "only system accounts have a reserved user");
  return "";
}

std::string or_list(const std::vector<std::string_view>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
    text += names[i];
  }
  return text;
}

}  // namespace wallet
