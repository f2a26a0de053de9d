// walletctl balance, show, history, audit.
#include "cli/app.hpp"
#include "core/domain/kinds.hpp"
#include "core/domain/shapes.hpp"
#include "core/domain/validate.hpp"
#include "reconcile/point_in_time.hpp"

namespace wallet::cli {

void register_query_commands(CLI::App& app, Commands& commands) {
  // balance
  auto* balance = app.add_subcommand("balance", "show a user's balances (system accounts: @treasury, ...)");
  auto user = std::make_shared<std::string>();
  auto asset = std::make_shared<std::string>();
  balance->add_option("--user", *user, "user id")->required();
  balance->add_option("--asset", *asset, "only this asset");
  auto at = std::make_shared<std::string>();
  balance->add_option("--at", *at,
                      "the balances as they were at this time (RFC 3339 or YYYY-MM-DD), summed from the ledger entries");
  commands.emplace_back(balance, [user, asset, at](Context& c) -> CommandResult {
    auto list = at->empty() ? c.ledger->balances(*user, optional_of(*asset))
                            : balances_at(c.read_store(), *user, optional_of(*asset), *at);
    return output_of(std::move(list), [](const std::vector<Balance>& list) {
      std::vector<nlohmann::json> rows;
      for (const auto& b : list) rows.push_back(to_json(b));
      return list_output(rows, {"user", "asset", "balance", "reserved", "available"});
    });
  });

  // show
  auto* show = app.add_subcommand("show", "show one transaction with its ledger entries");
  auto id = std::make_shared<std::string>();
  show->add_option("TXN", *id, "transaction id")->required();
  commands.emplace_back(show, [id](Context& c) -> CommandResult {
    return output_of(c.ledger->transaction(*id), [](const TransactionDetail& d) {
      nlohmann::json j = to_json(d);
      Output output = single_output(j, {"transaction_id", "status", "kind", "asset", "amount", "from", "to",
                                        "memo", "reference", "idempotency_key", "created_at", "updated_at",
                                        "expires_at", "attempts", "last_error"});
      for (const auto& e : j["entries"]) {
        output.notes.push_back("entry " + e["entry_id"].dump() + ": " + e["user"].get<std::string>() + " " +
                               e["amount"].get<std::string>() + " (balance " +
                               e["balance_before"].get<std::string>() + " -> " +
                               e["balance_after"].get<std::string>() + ", version " + e["version"].dump() + ")");
      }
      return output;
    });
  });

  // history
  auto* history = app.add_subcommand("history", "list the transactions of a user's wallets, newest first");
  auto query = std::make_shared<HistoryQuery>();
  auto strings = std::make_shared<std::array<std::string, 7>>();  // asset kind status since until cursor reference
  history->add_option("--user", query->user, "user id")->required();
  history->add_option("--asset", (*strings)[0], "only this asset");
  history->add_option("--kind", (*strings)[1], "only this kind: " + or_list(kind_names()));
  history->add_option("--status", (*strings)[2], "only this status: " + or_list(status_names()));
  history->add_option("--since", (*strings)[3], "from this time on (RFC 3339 or YYYY-MM-DD)");
  history->add_option("--until", (*strings)[4], "before this time");
  history->add_option("--limit", query->limit, "entries per page (1-1000, default 50)");
  static_assert(kHistoryLimitMax == 1000, "the help text and walletctl(1) say 1000");
  history->add_option("--cursor", (*strings)[5], "next_cursor of the previous page");
  history->add_option("--reference", (*strings)[6], "only the transactions with this reference");
  commands.emplace_back(history, [query, strings](Context& c) -> CommandResult {
    HistoryQuery q = *query;
    q.asset = optional_of((*strings)[0]);
    q.kind = optional_of((*strings)[1]);
    q.status = optional_of((*strings)[2]);
    q.since = optional_of((*strings)[3]);
    q.until = optional_of((*strings)[4]);
    q.reference = optional_of((*strings)[6]);
    return output_of(c.read_ledger().history(q, (*strings)[5]), [](const HistoryPage& page) {
      std::vector<nlohmann::json> rows;
      for (const auto& e : page.entries) rows.push_back(to_json(e));
      Output output = list_output(rows, {"transaction_id", "created_at", "kind", "status", "asset", "amount",
                                         "balance_after", "counterparty", "memo", "reference"},
                                  to_json(page));
      if (page.next_cursor) output.notes.push_back("next page: --cursor " + std::to_string(*page.next_cursor));
      return output;
    });
  });

  // audit
  auto* audit = app.add_subcommand("audit", "list the audit log, newest first");
  auto audit_query = std::make_shared<AuditQuery>();
  auto audit_strings = std::make_shared<std::array<std::string, 2>>();
  audit->add_option("--actor", (*audit_strings)[0], "only this actor");
  audit->add_option("--since", (*audit_strings)[1], "from this time on (RFC 3339 or YYYY-MM-DD)");
  audit->add_option("--limit", audit_query->limit, "rows (1-10000, default 100)");
  static_assert(kAuditLimitMax == 10'000, "the help text and walletctl(1) say 10000");
  commands.emplace_back(audit, [audit_query, audit_strings](Context& c) -> CommandResult {
    AuditQuery q = *audit_query;
    q.actor = optional_of((*audit_strings)[0]);
    q.since = optional_of((*audit_strings)[1]);
    return output_of(c.ledger->audit(q), [](const std::vector<AuditRow>& list) {
      std::vector<nlohmann::json> rows;
      for (const auto& r : list) rows.push_back(to_json(r));
      return list_output(rows, {"id", "at", "actor", "action", "outcome", "transaction_id", "arguments", "message"});
    });
  });

  // statement
  auto* statement = app.add_subcommand(
      "statement", "a wallet's account statement: opening balance, entries with the balance after each, closing");
  auto statement_options = std::make_shared<std::array<std::string, 4>>();  // user asset since until
  statement->add_option("--user", (*statement_options)[0], "user id (system accounts: @treasury, ...)")->required();
  statement->add_option("--asset", (*statement_options)[1], "asset")->required();
  statement->add_option("--since", (*statement_options)[2], "from this time on (RFC 3339 or YYYY-MM-DD)")->required();
  statement->add_option("--until", (*statement_options)[3], "before this time")->required();
  commands.emplace_back(statement, [statement_options](Context& c) -> CommandResult {
    const auto& o = *statement_options;
    return output_of(account_statement(c.read_store(), o[0], o[1], o[2], o[3]), [](const AccountStatement& s) {
      nlohmann::json document = to_json(s);
      std::vector<nlohmann::json> rows;
      for (const auto& e : document["entries"]) rows.push_back(e);
      Output output = list_output(rows, {"transaction_id", "created_at", "kind", "counterparty", "amount",
                                         "balance_after", "memo"},
                                  document);
      output.notes.push_back("opening " + document["opening_balance"].get<std::string>() + ", in " +
                             document["total_in"].get<std::string>() + ", out " +
                             document["total_out"].get<std::string>() + ", closing " +
                             document["closing_balance"].get<std::string>() + " (" + s.user + "/" + s.asset +
                             " from " + s.since + " to " + s.until + ")");
      return output;
    });
  });
}

}  // namespace wallet::cli
