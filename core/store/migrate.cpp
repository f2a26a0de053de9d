// walletctl migrate: the embedded migrations and function files, applied in
// one transaction under an advisory lock, then the privilege map; and the
// check that a database is not newer than this binary.
#include <algorithm>
#include <map>
#include <stdexcept>

#include <pqxx/pqxx>

#include "core/store/migrations.hpp"
#include "core/store/statements.hpp"
#include "core/store/store.hpp"

namespace wallet {

namespace {

// What the database records as applied.
struct Recorded {
  std::map<int, std::string> migrations;  // version -> applied_at
  struct Function {
    std::string sha256;
    std::string applied_at;
  };
  std::map<std::string, Function, std::less<>> functions;  // file name -> what was applied
};

std::string version_text(int version) {
  std::string text = std::to_string(version);
  return std::string(text.size() < 4 ? 4 - text.size() : 0, '0') + text;
}

// A database migrated by a newer release: this binary's functions and
// statements may not match its schema, so it refuses to touch it.
[[noreturn]] void refuse_newer_schema(int version, const std::string& name) {
  const int known = migrations().empty() ? 0 : migrations().back().version;
  throw std::runtime_error("the database has migration " + version_text(version) + "_" + name +
                           ", newer than this binary knows (up to " + version_text(known) +
                           "): it was migrated by a newer release; use that release or a later one");
}

Recorded read_recorded(pqxx::transaction_base& tx) {
  Recorded recorded;
  if (tx.exec1(std::string(sql::kMigrationExists))[0].as<bool>()) {
    const int known = migrations().empty() ? 0 : migrations().back().version;
    for (const auto& row : tx.exec(std::string(sql::kMigrationApplied))) {
      const int version = row[0].as<int>();
      if (version > known) refuse_newer_schema(version, row[1].as<std::string>());
      recorded.migrations[version] = row[2].as<std::string>();
    }
  }
  if (tx.exec1(std::string(sql::kFunctionExists))[0].as<bool>()) {
    for (const auto& row : tx.exec(std::string(sql::kFunctionApplied))) {
      recorded.functions[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
    }
  }
  return recorded;
}

std::vector<MigrationState> states_of(const Recorded& recorded) {
  std::vector<MigrationState> states;
  for (const auto& m : migrations()) {
    MigrationState state{MigrationState::Type::migration, m.version, std::string(m.name), std::nullopt};
    if (auto it = recorded.migrations.find(m.version); it != recorded.migrations.end()) state.applied_at = it->second;
    states.push_back(state);
  }
  for (const auto& f : function_files()) {
    MigrationState state{MigrationState::Type::functions, std::nullopt, std::string(f.name), std::nullopt};
    auto it = recorded.functions.find(f.name);
    if (it != recorded.functions.end() && it->second.sha256 == f.sha256) state.applied_at = it->second.applied_at;
    states.push_back(state);
  }
  return states;
}

}  // namespace

void require_known_schema(pqxx::connection_base& connection) {
  pqxx::nontransaction tx(connection);
  pqxx::result highest;
  try {
    highest = tx.exec(std::string(sql::kMigrationHighest));
  } catch (const pqxx::undefined_table&) {
    return;  // never migrated: nothing newer than us
  }
  const int known = migrations().empty() ? 0 : migrations().back().version;
  if (!highest.empty() && highest[0][0].as<int>() > known) {
    refuse_newer_schema(highest[0][0].as<int>(), highest[0][1].as<std::string>());
  }
}

Result<std::vector<MigrationState>> Store::migration_status() {
  std::vector<MigrationState> states;
  Status status = run("migrate --status", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    states = states_of(read_recorded(tx));
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
    tx.exec(std::string(sql::kFunctionTable));
    const Recorded recorded = read_recorded(tx);
    for (const auto& m : migrations()) {
      if (recorded.migrations.count(m.version) != 0) continue;
      tx.exec(std::string(m.sql));
      tx.exec_params(std::string(sql::kMigrationRecord), m.version, std::string(m.name));
      done.push_back({MigrationState::Type::migration, m.version, std::string(m.name), std::nullopt});
    }
    // The function files whose content changed, in file order. After a
    // migration, all of them: a migration may have dropped a function (a
    // signature change) or altered what one depends on, and every file is
    // safe to run again.
    const bool migrated = !done.empty();
    for (const auto& f : function_files()) {
      auto it = recorded.functions.find(f.name);
      if (!migrated && it != recorded.functions.end() && it->second.sha256 == f.sha256) continue;
      tx.exec(std::string(f.sql));
      tx.exec_params(std::string(sql::kFunctionRecord), std::string(f.name), std::string(f.sha256));
      done.push_back({MigrationState::Type::functions, std::nullopt, std::string(f.name), std::nullopt});
    }
    // Puts what was created or replaced under the privilege map (owner,
    // grants, entry points; see sql/functions/90_privileges.sql).
    if (!done.empty()) tx.exec(std::string(sql::kMigrationPrivileges));
    tx.commit();
  });
  if (!status.ok()) return status;
  return done;
}

}  // namespace wallet
