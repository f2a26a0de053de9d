// Assets, wallets and balances: the store's catalog queries.
#include "core/store/query.hpp"
#include "core/store/rows.hpp"
#include "core/store/store.hpp"

namespace wallet {

using rows::param;

Result<Asset> Store::asset_add(const std::string& code, int scale, const std::string& name,
                               const std::string& actor) {
  auto asset = transact(*this, "asset add", [&](Query& query) {
    return rows::asset_of(query.exec1("asset_add", code, scale, name, actor));
  });
  if (asset.ok()) scales_[code] = asset->scale;
  return asset;
}

Result<std::vector<Asset>> Store::assets() {
  return transact(*this, "asset list", [](Query& query) {
    std::vector<Asset> assets;
    for (const auto& row : query.exec("assets")) assets.push_back(rows::asset_of(row));
    return assets;
  });
}

Result<int> Store::asset_scale(const std::string& code) {
  if (auto it = scales_.find(code); it != scales_.end()) return it->second;
  auto scale = transact(*this, "asset lookup", [&](Query& query) -> std::optional<int> {
    const pqxx::result result = query.exec("asset_scale", code);
    if (result.empty()) return std::nullopt;
    return columns(result[0], 1)[0].as<int>();
  });
  if (!scale.ok()) return scale.status();
  if (!*scale) return Status::NotFound("asset " + code + " not found");
  scales_[code] = **scale;
  return **scale;
}

Result<Wallet> Store::wallet_create(const std::string& user, const std::string& asset, const std::string& actor) {
  return transact(*this, "wallet create",
                  [&](Query& query) { return rows::wallet_of(query.exec1("wallet_create", user, asset, actor)); });
}

Result<std::vector<Wallet>> Store::wallets(const std::optional<std::string>& user,
                                           const std::optional<std::string>& asset) {
  return transact(*this, "wallet list", [&](Query& query) {
    std::vector<Wallet> wallets;
    for (const auto& row : query.exec("wallets", param(user), param(asset))) wallets.push_back(rows::wallet_of(row));
    return wallets;
  });
}

Result<std::vector<Balance>> Store::balances(const std::string& user, const std::optional<std::string>& asset) {
  auto balances = transact(*this, "balance", [&](Query& query) {
    std::vector<Balance> balances;
    for (const auto& row : query.exec("balances", user, param(asset))) balances.push_back(rows::balance_of(row));
    return balances;
  });
  if (balances.ok() && balances->empty()) {
    return Status::NotFound(asset ? "wallet " + user + "/" + *asset + " not found" : "user " + user + " has no wallets");
  }
  return balances;
}

}  // namespace wallet
