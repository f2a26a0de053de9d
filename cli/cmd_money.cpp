// walletctl deposit, withdraw, transfer.
#include "cli/app.hpp"
#include "core/shapes.hpp"

namespace wallet::cli {

namespace {

const std::vector<std::string> kMovementColumns = {
    "transaction_id", "status", "kind", "asset", "amount", "from", "to",
    "memo", "idempotency_key", "replayed", "created_at"};

CommandResult movement_result(Result<Movement> result, const Context& c) {
  if (!result.ok()) return CommandResult(result.status());
  const Movement& m = result.value();
  if (m.status == "failed") {
    return CommandResult(failure_status(m), {{"transaction_id", m.transaction_id},
                                             {"idempotency_key", m.idempotency_key},
                                             {"replayed", m.replayed}});
  }
  Output output = single_output(to_json(m), kMovementColumns);
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

// Options shared by the three movement commands.
void add_common(CLI::App* command, MovementInput& input, bool with_kind) {
  command->add_option("--asset", input.asset, "asset code")->required();
  command->add_option("--amount", input.amount, "decimal amount, at most the asset's scale in decimals")
      ->required();
  if (with_kind) command->add_option("--kind", input.kind, "kind of movement");
  command->add_option("--key", input.idempotency_key,
                      "idempotency key (1-128 printable characters); generated and printed if omitted");
  command->add_option("--memo", input.memo, "free text, at most 500 bytes");
}

}  // namespace

void register_money_commands(CLI::App& app, Commands& commands) {
  auto deposit = std::make_shared<MovementInput>();
  deposit->operation = Operation::deposit;
  auto* d = app.add_subcommand("deposit", "credit a user's wallet from @treasury (kinds: deposit, topup, bonus)");
  d->add_option("--user", deposit->user, "user to credit")->required();
  add_common(d, *deposit, true);

  auto withdraw = std::make_shared<MovementInput>();
  withdraw->operation = Operation::withdraw;
  auto* w = app.add_subcommand(
      "withdraw", "debit a user's wallet to @settlement (kind withdraw) or @revenue (kind purchase)");
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
}

}  // namespace wallet::cli
