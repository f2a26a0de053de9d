#include "reconcile/point_in_time.hpp"

#include <fstream>
#include <pqxx/pqxx>

#include "core/bulk/import_format.hpp"
#include "core/domain/amount.hpp"
#include "core/domain/timestamp.hpp"
#include "core/domain/validate.hpp"
#include "core/store/query.hpp"
#include "reconcile/statements.hpp"
#include "reconcile/statement_format.hpp"

namespace wallet {

namespace {

// Splits an assertion line on spaces, tabs and commas.
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == ',') {
      if (!field.empty()) fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty()) fields.push_back(field);
  return fields;
}

// A signed balance in the asset's decimals; zero allowed.
Result<int64_t> parse_balance(const std::string& text, int scale) {
  std::string digits = text;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.erase(0, 1);
  const auto dot = digits.find('.');
  const bool all_zero = !digits.empty() && digits.find_first_not_of("0.") == std::string::npos && digits[0] != '.' &&
                        digits.find('.', dot == std::string::npos ? 0 : dot + 1) == std::string::npos &&
                        (dot == std::string::npos || (dot + 1 < digits.size() &&
                                                      static_cast<int>(digits.size() - dot - 1) <= scale));
  if (all_zero) return int64_t{0};
  return parse_statement_amount(text, scale, StatementProfile{});
}

}  // namespace

Result<std::vector<Balance>> balances_at(Store& store, const std::string& user, const std::optional<std::string>& asset,
                                         const std::string& at) {
  if (Status s = validate_user_id(user); !s.ok()) return s;
  if (asset) {
    if (Status s = validate_asset_code(*asset); !s.ok()) return s;
  }
  auto instant = parse_timestamp(at, field_ref("at"));
  if (!instant.ok()) return instant.status();
  std::vector<Balance> list;
  bool user_known = true;
  Status status = store.run("balance --at", [&](pqxx::connection_base& c) {
    list.clear();
    pqxx::read_transaction tx(c);
    Query db(tx, store.options());
    for (const auto& row : db.exec(reconcile_sql::statement("point_in_time_balances"), user, asset ? asset->c_str() : nullptr, *instant)) {
      list.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(), row[3].as<int64_t>(),
                      row[4].as<int64_t>()});
    }
    // As `balance` (and walletd's route without at=): an unknown wallet is
    // not found; one created after the instant is an empty list.
    if (list.empty()) user_known = db.exec1("user_has_wallets", user, asset ? asset->c_str() : nullptr)[0].as<int64_t>() > 0;
  });
  if (!status.ok()) return status;
  if (!user_known) {
    return Status::NotFound(asset ? "wallet " + user + "/" + *asset + " not found" : "user " + user + " has no wallets");
  }
  return list;
}

Result<AccountStatement> account_statement(Store& store, const std::string& user, const std::string& asset,
                                           const std::string& since, const std::string& until) {
  if (Status s = validate_user_id(user); !s.ok()) return s;
  if (Status s = validate_asset_code(asset); !s.ok()) return s;
  auto from = parse_timestamp(since, field_ref("since"));
  if (!from.ok()) return from.status();
  auto to = parse_timestamp(until, field_ref("until"));
  if (!to.ok()) return to.status();
  auto scale = store.asset_scale(asset);
  if (!scale.ok()) return scale.status();
  AccountStatement statement;
  bool has_wallet = false;
  bool ordered = true;
  Status status = store.run("statement", [&](pqxx::connection_base& c) {
    statement = AccountStatement{};
    statement.user = user;
    statement.asset = asset;
    statement.since = *from;
    statement.until = *to;
    statement.scale = *scale;
    // One snapshot: the opening, the entries and the closing agree.
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(c);
    Query db(tx, store.options());
    ordered = db.exec1(reconcile_sql::statement("point_in_time_period_ordered"), *from, *to)[0].as<bool>();
    if (!ordered) return;
    has_wallet = db.exec1("user_has_wallets", user, asset)[0].as<int64_t>() > 0;
    if (!has_wallet) return;
    int64_t running = 0;
    for (const auto& row : db.exec(reconcile_sql::statement("point_in_time_statement"), user, asset, *from, *to)) {
      const int section = row[6].as<int>();
      if (section == 0) {
        statement.opening = running = row[3].as<int64_t>();
      } else if (section == 2) {
        statement.closing = row[3].as<int64_t>();
      } else {
        if (static_cast<int64_t>(statement.entries.size()) >= kAccountStatementEntriesMax) {
          throw std::length_error("more than " + std::to_string(kAccountStatementEntriesMax) + " entries");
        }
        StatementEntry e;
        e.transaction_id = row[0].as<int64_t>();
        e.kind = row[1].as<std::string>();
        e.counterparty = row[2].as<std::string>();
        e.amount = row[3].as<int64_t>();
        e.created_at = row[4].as<std::string>();
        e.memo = row[5].as<std::string>();
        running += e.amount;
        e.balance_after = running;
        (e.amount > 0 ? statement.total_in : statement.total_out) += e.amount > 0 ? e.amount : -e.amount;
        statement.entries.push_back(std::move(e));
      }
    }
    // The closing balance is summed on its own; the entries must lead to it.
    if (running != statement.closing) {
      throw std::logic_error("opening balance plus entries (" + std::to_string(running) +
                             ") differs from the closing balance (" + std::to_string(statement.closing) + ")");
    }
  });
  if (!status.ok()) return status;
  if (!ordered) return Status::Invalid("--until must be after --since");
  if (!has_wallet) return Status::NotFound("user " + user + " has no wallet in " + asset);
  return statement;
}

nlohmann::json to_json(const AccountStatement& s) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : s.entries) {
    entries.push_back({{"transaction_id", e.transaction_id},
                       {"kind", e.kind},
                       {"counterparty", e.counterparty},
                       {"amount", format_amount(e.amount, s.scale)},
                       {"balance_after", format_amount(e.balance_after, s.scale)},
                       {"created_at", e.created_at},
                       {"memo", e.memo}});
  }
  return {{"user", s.user},
          {"asset", s.asset},
          {"since", s.since},
          {"until", s.until},
          {"opening_balance", format_amount(s.opening, s.scale)},
          {"total_in", format_amount(s.total_in, s.scale)},
          {"total_out", format_amount(s.total_out, s.scale)},
          {"closing_balance", format_amount(s.closing, s.scale)},
          {"entries", entries}};
}

Result<std::vector<BalanceAssertion>> check_assertions(Store& store, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read assertion file " + excerpt(path, 200));
  LineReader reader(in);
  std::string text;
  std::vector<BalanceAssertion> results;
  for (;;) {
    const auto next = reader.next(text);
    if (next == LineReader::Next::end) break;
    const auto at_line = [&](const std::string& why) {
      return Status::Invalid(path + ":" + std::to_string(reader.line_number()) + ": " + why);
    };
    if (next == LineReader::Next::too_long) return at_line("line too long");
    if (!is_valid_utf8(text)) return at_line("not valid UTF-8");
    if (const auto hash = text.find('#'); hash != std::string::npos) text.erase(hash);
    const auto fields = fields_of(text);
    if (fields.empty()) continue;
    if (fields.size() != 4) return at_line("expected USER ASSET BALANCE AT, found " + std::to_string(fields.size()) + " fields");
    BalanceAssertion a;
    a.line = reader.line_number();
    a.user = fields[0];
    a.asset = fields[1];
    a.expected = fields[2];
    a.at = fields[3];
    if (Status s = validate_asset_code(a.asset); !s.ok()) return at_line(s.message());
    auto scale = store.asset_scale(a.asset);
    if (!scale.ok()) return at_line(scale.status().message());
    auto expected = parse_balance(a.expected, *scale);
    if (!expected.ok()) return at_line(expected.status().message());
    auto balances = balances_at(store, a.user, a.asset, a.at);
    if (!balances.ok()) {
      if (balances.status().code() == Code::invalid) return at_line(balances.status().message());
      return balances.status();
    }
    if (!balances->empty()) {
      a.actual = format_amount(balances->front().balance, *scale);
      a.holds = balances->front().balance == *expected;
    } else {
      a.holds = *expected == 0;  // no wallet then: nothing in it
    }
    results.push_back(std::move(a));
  }
  return results;
}

nlohmann::json to_json(const BalanceAssertion& a) {
  return {{"line", a.line},       {"user", a.user},
          {"asset", a.asset},     {"at", a.at},
          {"expected", a.expected}, {"actual", a.actual ? nlohmann::json(*a.actual) : nlohmann::json(nullptr)},
          {"holds", a.holds}};
}

}  // namespace wallet
