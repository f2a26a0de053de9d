// Configuration: command-line flag > environment > TOML file > defaults.
//
// The file is --config, else $WALLETCTL_CONFIG, else
// ~/.config/walletctl/config.toml, else /etc/walletctl/walletctl.toml (the
// last two only when they exist). Every key is optional; an unknown key or a
// value of the wrong type is Invalid, naming the file and key. The database
// conninfo is passed to libpq as is, so libpq's PG* variables fill in
// whatever it leaves out. sources() says which source set each value.
//
// Variables: WALLETCTL_CONFIG, WALLETCTL_DATABASE, WALLETCTL_READ_DATABASE,
// WALLETCTL_PREPARED_STATEMENTS (on|off|true|false|1|0; anything else is
// Invalid).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config/statement_profile.hpp"
#include "core/domain/duration.hpp"
#include "core/domain/status.hpp"

namespace wallet {

struct DaemonConfig {
  std::string listen = "127.0.0.1:8080";
  int threads = 8;
  int pool_size = 8;
  std::vector<std::string> tokens;
  int rate_limit_per_second = 200;
  int body_bytes_max = 65536;
  Milliseconds request_timeout{10'000};
  Milliseconds worker_interval{5'000};
};

struct Config {
  std::string database;  // libpq conninfo or URI; empty: libpq's PG* defaults
  // Where history and reconcile read (e.g. a hot standby); empty: `database`.
  std::string read_database;
  // false: no named prepared statements (PgBouncer in transaction pooling mode).
  bool prepared_statements = true;
  std::string log_level = "info";
  Milliseconds holds_timeout{24LL * 3600 * 1000};
  std::string settlement_command;  // empty: withdrawals post at once
  Milliseconds settlement_timeout{30'000};
  Milliseconds reconcile_stuck_after{15LL * 60 * 1000};
  DaemonConfig daemon;
  // [statement.profiles.NAME]: column mappings for `reconcile statement`.
  std::map<std::string, StatementProfile> statement_profiles;

  std::string file;                              // the file read, or empty
  std::map<std::string, std::string> sources;    // key -> "flag", "environment", file, "default"
};

// What the command line said; nullopt when the flag was not given.
struct ConfigFlags {
  std::optional<std::string> config_file;
  std::optional<std::string> database;
  std::optional<std::string> read_database;
  std::optional<bool> prepared_statements;
};

// The conninfo that history and reconcile use: read_database, else database.
inline const std::string& read_conninfo(const Config& config) {
  return config.read_database.empty() ? config.database : config.read_database;
}

// Reads one environment variable; nullptr when unset. Injectable for tests.
using EnvironmentLookup = std::function<const char*(const char*)>;

Result<Config> load_config(const ConfigFlags& flags, const EnvironmentLookup& environment);

// Parses TOML text into `config` (used by load_config; exposed for tests).
Status apply_config_text(std::string_view text, const std::string& source, Config& config);

}  // namespace wallet
