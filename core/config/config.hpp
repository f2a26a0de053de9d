// Configuration: command-line flag > environment > TOML file > defaults.
//
// Every setting is a row of the option table (options.hpp), which names its
// flag, environment variable and file key. The file is --config, else
// $WALLETCTL_CONFIG, else ~/.config/walletctl/config.toml, else
// /etc/walletctl/walletctl.toml (the last two only when they exist). Every
// key is optional; an unknown key or a value of the wrong type is Invalid,
// naming the file and key. The database conninfo is passed to libpq as is,
// so libpq's PG* variables fill in whatever it leaves out. Config::sources
// says which source set each value.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/config/statement_profile.hpp"
#include "core/domain/duration.hpp"
#include "core/domain/status.hpp"

namespace wallet {

// One [[daemon.tokens]] entry: a named bearer token, stored as the hex
// SHA-256 of the token (lower case), with its scopes (read, move, operate).
struct DaemonToken {
  std::string name;
  std::string sha256;
  std::vector<std::string> scopes;
};

// The scopes a token may have, in the order walletd(8) lists them.
inline const std::vector<std::string> kTokenScopes = {"read", "move", "operate"};

struct DaemonConfig {
  std::string listen = "127.0.0.1:8080";
  int threads = 8;
  int pool_size = 8;
  // Deprecated plain form `tokens = ["..."]`: full scope, named token1, token2...
  std::vector<std::string> tokens;
  std::vector<DaemonToken> named_tokens;  // `[[daemon.tokens]]`
  int rate_limit_per_second = 200;
  int body_bytes_max = 65536;
  Milliseconds request_timeout{10'000};
  Milliseconds worker_interval{5'000};

  // The event-driven HTTP server and its limits against slow or hostile
  // clients (walletd(8) LIMITS).
  int io_threads = 2;              // event-loop threads
  int connections_max = 4096;      // open connections; one more is answered 503
  int auth_failures_per_minute = 20;  // 401s per client address before its requests get 429
  // TLS: PEM certificate chain and key, reloaded on SIGHUP; both or neither.
  std::string tls_cert;
  std::string tls_key;
  // A listen address other than loopback needs TLS unless this is true
  // (e.g. behind a TLS-terminating proxy on a private network).
  bool allow_plaintext = false;
};

// Entries of [settlement] env: a command needs a handful, not a copy of an
// environment; bounds the configuration a typo could blow up.
inline constexpr std::size_t kSettlementEnvEntriesMax = 64;

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
  // Variables given to the settlement command beside the inherited
  // allowlist (settlement.hpp). Names are [A-Za-z_][A-Za-z0-9_]*, at most
  // kSettlementEnvEntriesMax; PG* and WALLETCTL_* are refused: those are
  // the ledger's own connection settings and secrets.
  std::map<std::string, std::string> settlement_env;
  Milliseconds reconcile_stuck_after{15LL * 60 * 1000};
  DaemonConfig daemon;
  // [statement.profiles.NAME]: column mappings for `reconcile statement`.
  std::map<std::string, StatementProfile> statement_profiles;

  // Flags only (no variable, no file key).
  std::string output = "table";  // walletctl: table, json, jsonl or csv
  std::string actor;             // walletctl: empty means the OS user
  std::string metrics_file;      // walletctl reconcile, retry, digest: Prometheus textfile to write
  bool verbose = false;
  bool quiet = false;            // walletctl
  std::string log_file;          // walletd: empty means stderr

  std::string file;                              // the file read, or empty
  std::map<std::string, std::string> sources;    // key -> "flag", "environment", file, "default"
};

// What the command line said: option key ("database") -> the flag's value
// as text ("false" for --no-prepared-statements). Absent: not given.
using ConfigFlags = std::map<std::string, std::string, std::less<>>;

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
