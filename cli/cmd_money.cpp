// walletctl deposit, withdraw, transfer.
#include "cli/app.hpp"
#include "core/domain/kinds.hpp"
#include "core/domain/shapes.hpp"

namespace wallet::cli {

namespace {

const std::vector<std::string> kMovementColumns = {
    "transaction_id", "status", "kind", "asset", "amount", "from", "to",
    "memo", "reference", "idempotency_key", "replayed", "created_at"};

CommandResult movement_result(const MovementOutcome& outcome, const Context& c) {
  if (!outcome.ok()) return CommandResult(outcome.status(), outcome.error_fields());
  const Movement& m = outcome.movement();
  Output output = single_output(to_json(m), kMovementColumns);
  if (outcome.outcome() == Outcome::held && !c.quiet) {
    output.notes.push_back(m.expires_at ? "note: held until " + *m.expires_at + "; complete it with: walletctl post " +
                                              std::to_string(m.transaction_id) + " (or release it: walletctl void " +
                                              std::to_string(m.transaction_id) + ")"
                                        : "note: waiting for settlement; walletctl retry (or walletd) tries again");
  }
  if (m.key_generated && !c.quiet) {
    output.notes.push_back("note: no --key given, so this movement got the key " + m.idempotency_key +
                           "; to retry it safely, re-run with --key " + m.idempotency_key);
  }
  if (m.replayed && !c.quiet) {
    output.notes.push_back("note: key " + m.idempotency_key +
                           " was already used for this request; nothing changed (replayed)");
  }
  return CommandResult(std::move(output));
}

// The system accounts an operation's kinds use, from the kinds table:
// "@treasury (kinds: deposit, topup, bonus)", "@settlement (kind withdraw) or @revenue (kind purchase)".
std::string accounts_help(Operation operation) {
  std::vector<std::pair<Account, std::vector<std::string_view>>> groups;
  for (const KindInfo& kind : kinds()) {
    if (kind.operation != operation) continue;
    const Account system = kind.debit == Account::user ? kind.credit : kind.debit;
    if (groups.empty() || groups.back().first != system) groups.push_back({system, {}});
    groups.back().second.push_back(kind.name);
  }
  std::string text;
  for (const auto& [account, names] : groups) {
    if (!text.empty()) text += " or ";
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + std::string(name);
    text += std::string(system_user(account)) + (names.size() == 1 ? " (kind " : " (kinds: ") + list + ")";
  }
  return text;
}

std::string kinds_help(Operation operation) {
  const auto names = kind_names(operation);
  return "kind of movement: " + or_list(names) + " (default " + std::string(names.front()) + ")";
}

// Options shared by the three movement commands.
void add_common(CLI::App* command, MovementInput& input, bool with_kind) {
  command->add_option("--asset", input.asset, "asset code")->required();
  command->add_option("--amount", input.amount, "decimal amount, at most the asset's scale in decimals")
      ->required();
  if (with_kind) command->add_option("--kind", input.kind, kinds_help(input.operation));
  command->add_option("--key", input.idempotency_key,
                      "idempotency key (1-128 printable characters); generated and printed if omitted");
  command->add_option("--memo", input.memo, "free text, at most 500 bytes");
  command->add_option("--reference", input.reference,
                      "the bank's or payout provider's id for this movement (1-140 bytes; history --reference finds it)");
  command->add_flag("--pending", input.pending, "only reserve the amount (a hold); complete it with post, release it with void");
  add_duration_option(command, "--timeout", [&input](Milliseconds timeout) { input.timeout = timeout; },
                      "with --pending: expiry of the hold, e.g. 30m, 24h (default [holds] timeout)");
}

}  // namespace

void register_money_commands(CLI::App& app, Commands& commands) {
  auto deposit = std::make_shared<MovementInput>();
  deposit->operation = Operation::deposit;
  auto* d = app.add_subcommand("deposit", "credit a user's wallet from " + accounts_help(Operation::deposit));
  d->add_option("--user", deposit->user, "user to credit")->required();
  add_common(d, *deposit, true);

  auto withdraw = std::make_shared<MovementInput>();
  withdraw->operation = Operation::withdraw;
  auto* w = app.add_subcommand("withdraw", "debit a user's wallet to " + accounts_help(Operation::withdraw));
  w->add_option("--user", withdraw->user, "user to debit")->required();
  add_common(w, *withdraw, true);

  auto transfer = std::make_shared<MovementInput>();
  transfer->operation = Operation::transfer;
  auto* t = app.add_subcommand("transfer", "move value from one user's wallet to another's");
  t->add_option("--from", transfer->user, "user to debit")->required();
  t->add_option("--to", transfer->to_user, "user to credit")->required();
  add_common(t, *transfer, false);

  for (auto& [command, input] : {std::pair{d, deposit}, std::pair{w, withdraw}, std::pair{t, transfer}}) {
    commands.emplace_back(command, [input = input](Context& c) -> CommandResult {
      MovementInput in = *input;
      in.actor = c.actor;
      return movement_result(c.ledger->move(in), c);
    });
  }

  // post / void / reverse
  auto post_id = std::make_shared<std::string>();
  auto post_amount = std::make_shared<std::string>();
  auto* post = app.add_subcommand("post", "complete a pending transaction (a hold), all of it or part");
  post->add_option("TXN", *post_id, "transaction id")->required();
  post->add_option("--amount", *post_amount, "amount to move, at most the held amount (default: all); the rest is released");
  commands.emplace_back(post, [post_id, post_amount](Context& c) -> CommandResult {
    return movement_result(c.ledger->post(*post_id, *post_amount, c.actor), c);
  });

  auto void_id = std::make_shared<std::string>();
  auto void_reason = std::make_shared<std::string>();
  auto* void_command = app.add_subcommand("void", "release a pending transaction (a hold)");
  void_command->add_option("TXN", *void_id, "transaction id")->required();
  void_command->add_option("--reason", *void_reason, "why, recorded as the transaction's last error (at most 500 bytes)");
  commands.emplace_back(void_command, [void_id, void_reason](Context& c) -> CommandResult {
    return movement_result(c.ledger->void_transaction(*void_id, *void_reason, c.actor), c);
  });

  auto reverse_id = std::make_shared<std::string>();
  auto reverse_key = std::make_shared<std::string>();
  auto* reverse = app.add_subcommand("reverse", "undo a posted transaction with a compensating one (at most once)");
  reverse->add_option("TXN", *reverse_id, "transaction id")->required();
  reverse->add_option("--key", *reverse_key, "idempotency key of the reversal; generated and printed if omitted");
  commands.emplace_back(reverse, [reverse_id, reverse_key](Context& c) -> CommandResult {
    return movement_result(c.ledger->reverse(*reverse_id, *reverse_key, c.actor), c);
  });
}

}  // namespace wallet::cli
