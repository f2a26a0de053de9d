// walletctl digest, digest verify.
#include "cli/app.hpp"
#include "reconcile/digest.hpp"
#include "reconcile/reconcile.hpp"

namespace wallet::cli {

namespace {

Output digest_output(const digest::Anchor& anchor, const std::string& out_file) {
  nlohmann::json summary = digest::to_json(anchor);
  summary["file"] = out_file;
  summary["heads"] = out_file + ".heads";
  summary["signed"] = anchor.signature.has_value();
  Output output = single_output(summary, {"file", "heads", "created_at", "max_entry_id", "wallets", "entries",
                                          "merkle_root", "signed"});
  return output;
}

Output verify_output(const digest::VerifyReport& report, const digest::Anchor& anchor) {
  std::vector<nlohmann::json> rows;
  for (const auto& d : report.findings) rows.push_back(to_json(d));
  nlohmann::json document = digest::to_json(report, anchor);
  document["findings"] = rows;
  Output output = list_output(rows, {"check", "wallet", "user", "asset", "transaction", "stored", "computed", "detail"},
                              document);
  output.notes.push_back(
      std::string(report.findings.empty() ? "the ledger extends the anchor" : "the ledger does NOT extend the anchor") +
      " of " + anchor.created_at + ": " + std::to_string(report.wallets) + " wallets, " +
      std::to_string(report.entries) + " entries verified, " + std::to_string(report.findings.size()) + " finding(s), " +
      std::to_string(report.entries_after) + " entries since; signature " +
      (report.signature_checked ? "verified" : "not checked (no --pub)"));
  output.exit_code = digest::exit_code_of(report);
  return output;
}

}  // namespace

void register_digest_commands(CLI::App& app, Commands& commands) {
  auto* digest_command = app.add_subcommand(
      "digest", "anchor the ledger's state (chain heads, Merkle root, per-asset totals) in a file kept off the database host");
  digest_command->fallthrough();
  auto out_file = std::make_shared<std::string>();
  auto sign_key = std::make_shared<std::string>();
  digest_command->add_option("--out", *out_file,
                             "write the anchor to FILE and its heads to FILE.heads (default: the anchor with its heads "
                             "inline, as JSON on stdout)");
  digest_command->add_option("--sign-key", *sign_key, "sign the anchor with this PEM Ed25519 private key")
      ->check(CLI::ExistingFile);

  auto* verify_command = digest_command->add_subcommand(
      "verify", "check that today's ledger still extends an anchor (exit 10 when it does not, 2 for a bad anchor)");
  auto anchor_file = std::make_shared<std::string>();
  auto public_key = std::make_shared<std::string>();
  verify_command->add_option("FILE", *anchor_file, "the anchor written by walletctl digest --out")->required();
  verify_command->add_option("--pub", *public_key, "require a valid signature by this PEM Ed25519 public key");

  // verify first: the loop in run_cli runs the first parsed command, and
  // `digest verify` parses digest too.
  commands.emplace_back(verify_command, [anchor_file, public_key](Context& c) -> CommandResult {
    auto anchor = digest::read_anchor(*anchor_file);
    if (!anchor.ok()) return CommandResult(anchor.status());
    if (!public_key->empty()) {
      if (Status s = digest::verify_signature(*anchor, *public_key); !s.ok()) return CommandResult(s);
    }
    auto report = digest::verify(c.read_store(), *anchor);
    if (!report.ok()) return CommandResult(report.status());
    report->signature_checked = !public_key->empty();
    return CommandResult(verify_output(*report, *anchor));
  });
  commands.emplace_back(digest_command, [out_file, sign_key](Context& c) -> CommandResult {
    auto anchor = digest::take(*c.store);
    if (!anchor.ok()) return CommandResult(anchor.status());
    if (!sign_key->empty()) {
      if (Status s = digest::sign_anchor(*anchor, *sign_key); !s.ok()) return CommandResult(s);
    }
    CommandResult result(Output{});
    if (out_file->empty()) {
      // The anchor itself is the output, whatever -o says: it is a file format.
      result.output.document = digest::to_json_with_heads(*anchor);
      result.output.raw_json = true;
    } else {
      if (Status s = digest::write_anchor(*anchor, *out_file); !s.ok()) return CommandResult(s);
      result.output = digest_output(*anchor, *out_file);
    }
    result.metrics = jobs::digest_samples(*anchor);
    return result;
  });
}

}  // namespace wallet::cli
