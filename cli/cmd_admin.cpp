// walletctl migrate, asset, wallet.
#include <algorithm>

#include "cli/app.hpp"
#include "core/domain/shapes.hpp"

namespace wallet::cli {

namespace {

std::optional<std::string> optional_of(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

const std::vector<std::string> kWalletColumns = {"user", "asset", "balance", "reserved", "available", "created_at"};

}  // namespace

void register_admin_commands(CLI::App& app, Commands& commands) {
  // migrate
  auto* migrate = app.add_subcommand(
      "migrate", "apply the schema migrations and function files shipped in this binary (safe to repeat)");
  auto status_only = std::make_shared<bool>(false);
  migrate->add_flag("--status", *status_only, "list migrations and function files and whether each is applied");
  commands.emplace_back(migrate, [status_only](Context& c) -> CommandResult {
    if (*status_only) {
      return output_of(c.ledger->migration_status(), [](const std::vector<MigrationState>& states) {
        std::vector<nlohmann::json> rows;
        for (const auto& s : states) rows.push_back(to_json(s));
        return list_output(rows, {"type", "version", "name", "applied_at"});
      });
    }
    return output_of(c.ledger->migrate(), [](const std::vector<MigrationState>& applied) {
      std::vector<nlohmann::json> rows;
      for (const auto& s : applied) rows.push_back(to_json(s));
      const auto migrations = std::count_if(applied.begin(), applied.end(), [](const MigrationState& s) {
        return s.type == MigrationState::Type::migration;
      });
      Output output = list_output(rows, {"type", "version", "name"}, {{"applied", rows}});
      output.notes.push_back(rows.empty() ? "schema is up to date"
                                          : "applied " + std::to_string(migrations) + " migration(s) and " +
                                                std::to_string(rows.size() - migrations) + " function file(s)");
      return output;
    });
  });

  // asset add / list
  auto* asset = app.add_subcommand("asset", "manage assets (currencies and virtual credits)");
  asset->require_subcommand(1);
  auto* asset_add = asset->add_subcommand("add", "add an asset and its system accounts");
  auto code = std::make_shared<std::string>();
  auto scale = std::make_shared<int>(-1);
  auto name = std::make_shared<std::string>();
  asset_add->add_option("CODE", *code, "asset code: 2-12 of A-Z 0-9 _")->required();
  asset_add->add_option("--scale", *scale, "decimal places of the minor unit (0-18)")->required();
  asset_add->add_option("--name", *name, "display name");
  commands.emplace_back(asset_add, [code, scale, name](Context& c) -> CommandResult {
    return output_of(c.ledger->asset_add(*code, *scale, *name, c.actor), [](const Asset& a) {
      return single_output(to_json(a), {"code", "scale", "name", "created_at"});
    });
  });
  auto* asset_list = asset->add_subcommand("list", "list assets");
  commands.emplace_back(asset_list, [](Context& c) -> CommandResult {
    return output_of(c.ledger->assets(), [](const std::vector<Asset>& assets) {
      std::vector<nlohmann::json> rows;
      for (const auto& a : assets) rows.push_back(to_json(a));
      return list_output(rows, {"code", "scale", "name", "created_at"});
    });
  });

  // wallet create / list
  auto* wallet = app.add_subcommand("wallet", "manage user wallets");
  wallet->require_subcommand(1);
  auto* create = wallet->add_subcommand("create", "create a user's wallet for an asset");
  auto user = std::make_shared<std::string>();
  auto wallet_asset = std::make_shared<std::string>();
  create->add_option("--user", *user, "external user id")->required();
  create->add_option("--asset", *wallet_asset, "asset code")->required();
  commands.emplace_back(create, [user, wallet_asset](Context& c) -> CommandResult {
    return output_of(c.ledger->wallet_create(*user, *wallet_asset, c.actor),
                     [](const Wallet& w) { return single_output(to_json(w), kWalletColumns); });
  });
  auto* list = wallet->add_subcommand("list", "list user wallets");
  auto list_user = std::make_shared<std::string>();
  auto list_asset = std::make_shared<std::string>();
  list->add_option("--user", *list_user, "only this user");
  list->add_option("--asset", *list_asset, "only this asset");
  commands.emplace_back(list, [list_user, list_asset](Context& c) -> CommandResult {
    return output_of(c.ledger->wallets(optional_of(*list_user), optional_of(*list_asset)),
                     [](const std::vector<Wallet>& wallets) {
                       std::vector<nlohmann::json> rows;
                       for (const auto& w : wallets) rows.push_back(to_json(w));
                       return list_output(rows, kWalletColumns);
                     });
  });
}

}  // namespace wallet::cli
