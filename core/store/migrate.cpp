// walletctl migrate: the embedded migrations, applied in one transaction
// under an advisory lock, then the privilege map.
#include <algorithm>
#include <map>
#include <set>

#include <pqxx/pqxx>

#include "core/store/migrations.hpp"
#include "core/store/statements.hpp"
#include "core/store/store.hpp"

namespace wallet {

Result<std::vector<MigrationState>> Store::migration_status() {
  std::vector<MigrationState> states;
  Status status = run("migrate --status", [&](pqxx::connection_base& c) {
    states.clear();
    pqxx::read_transaction tx(c);
    std::map<int, std::string> applied;
    if (tx.exec1(std::string(sql::kMigrationExists))[0].as<bool>()) {
      for (const auto& row : tx.exec(std::string(sql::kMigrationApplied))) {
        applied[row[0].as<int>()] = row[2].as<std::string>();
      }
    }
    for (const auto& m : migrations()) {
      MigrationState state{m.version, std::string(m.name), std::nullopt};
      if (auto it = applied.find(m.version); it != applied.end()) state.applied_at = it->second;
      states.push_back(state);
    }
  });
  if (!status.ok()) return status;
  return states;
}

Result<std::vector<MigrationState>> Store::migrate() {
  // Up to date: nothing to do, and nothing that needs more than SELECT, so
  // the application role may run it too (it may not change the schema).
  auto states = migration_status();
  if (!states.ok()) return states.status();
  if (std::all_of(states->begin(), states->end(), [](const MigrationState& m) { return m.applied_at.has_value(); })) {
    return std::vector<MigrationState>{};
  }
  std::vector<MigrationState> done;
  Status status = run("migrate", [&](pqxx::connection_base& c) {
    done.clear();
    pqxx::work tx(c);
    // Serializes concurrent migrate runs; released at commit.
    tx.exec(std::string(sql::kMigrationLock));
    tx.exec(std::string(sql::kMigrationTable));
    std::set<int> applied;
    for (const auto& row : tx.exec(std::string(sql::kMigrationApplied))) applied.insert(row[0].as<int>());
    for (const auto& m : migrations()) {
      if (applied.count(m.version) != 0) continue;
      tx.exec(std::string(m.sql));
      tx.exec_params(std::string(sql::kMigrationRecord), m.version, std::string(m.name));
      done.push_back({m.version, std::string(m.name), std::nullopt});
    }
    // Puts what these migrations created or replaced under the privilege
    // map (owner, grants, entry points; see 0005_roles.sql).
    if (!done.empty()) tx.exec(std::string(sql::kMigrationPrivileges));
    tx.commit();
  });
  if (!status.ok()) return status;
  return done;
}

}  // namespace wallet
