// Plain values that the core's operations take and return. No behaviour:
// validation lives in ledger.cpp, SQL in core/store and reconcile/sql, JSON
// shapes in shapes.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/domain/duration.hpp"

namespace wallet {

struct Asset {
  std::string code;
  int scale = 0;
  std::string name;
  std::string created_at;
};

struct Wallet {
  int64_t id = 0;
  std::string user;
  std::string asset;
  int scale = 0;
  int64_t balance = 0;
  int64_t reserved = 0;
  std::string created_at;
};

// A user's position in one asset; system accounts sum their shards.
struct Balance {
  std::string user;
  std::string asset;
  int scale = 0;
  int64_t balance = 0;
  int64_t reserved = 0;
};

// What a caller asks for. `amount` is the decimal text the user typed.
enum class Operation { deposit, withdraw, transfer };

struct MovementInput {
  Operation operation = Operation::deposit;
  std::string user;     // the user wallet (deposit, withdraw) or the sender (transfer)
  std::string to_user;  // transfer only
  std::string asset;
  std::string amount;
  std::string kind;  // empty: the operation's default kind
  std::string memo;
  std::string reference;  // the bank's or provider's id for it; empty: none
  std::string idempotency_key;  // empty: one is generated
  bool pending = false;
  std::optional<Milliseconds> timeout;  // pending only; default from config
  std::string actor;
  // A withdrawal waiting for the settlement command: false leaves its first
  // attempt to whoever drives pending settlements (walletd's worker), so
  // the caller does not wait for the command.
  bool settle_now = true;
};

// A validated movement, ready for the database.
struct MovementRequest {
  std::string kind;
  std::string from_user;
  std::string to_user;
  std::string asset;
  int64_t amount = 0;
  std::string memo;
  std::string reference;  // empty: none
  std::string idempotency_key;
  bool key_generated = false;
  std::string fingerprint;
  bool pending = false;
  Milliseconds timeout{0};
  std::string actor;
  std::string arguments_json;  // for the audit log
  bool settle = false;                // pending until the settlement command confirms
  Milliseconds settle_lease{0};       // how long retry workers leave the first attempt alone
};

// The answer to a movement (also what `show` starts from).
struct Movement {
  int64_t transaction_id = 0;
  std::string idempotency_key;
  bool key_generated = false;
  std::string status;  // pending, posted, voided, failed
  std::string kind;
  std::string asset;
  int scale = 0;
  int64_t amount = 0;
  std::string from_user;
  std::string to_user;
  std::string memo;
  std::optional<std::string> reference;
  std::string created_at;
  std::optional<std::string> expires_at;
  bool replayed = false;
  std::string error_code;  // set when status is failed
  std::string error_message;
  std::optional<int64_t> posted_amount;  // what moved, once posted (may be less than amount)
};

struct LedgerEntry {
  int64_t id = 0;
  std::string user;
  int64_t wallet_id = 0;
  int64_t amount = 0;  // signed
  int64_t version = 0;
  int64_t balance_before = 0;
  int64_t balance_after = 0;
  std::string hash;  // hex
  std::string created_at;
};

struct TransactionDetail {
  Movement movement;
  std::string updated_at;
  int attempts = 0;
  std::optional<std::string> next_attempt_at;
  std::optional<std::string> last_error;
  std::optional<int64_t> reverses_id;
  bool settle = false;  // a withdrawal waiting for the settlement command
  std::string actor;    // who created the transaction
  std::vector<LedgerEntry> entries;
};

struct HistoryQuery {
  std::string user;
  std::optional<std::string> asset;
  std::optional<std::string> kind;
  std::optional<std::string> status;
  std::optional<std::string> since;  // timestamps as the user typed them
  std::optional<std::string> until;
  std::optional<std::string> reference;  // only the transactions with this reference
  int limit = 50;
  std::optional<int64_t> cursor;  // exclusive: transactions with a smaller id
};

struct HistoryEntry {
  int64_t transaction_id = 0;
  std::string kind;
  std::string status;
  std::string asset;
  int scale = 0;
  int64_t amount = 0;  // signed for this user: negative when it left the wallet
  std::optional<int64_t> balance_after;  // posted only
  std::string counterparty;
  std::string created_at;
  std::string memo;
  std::optional<std::string> reference;
};

struct HistoryPage {
  std::vector<HistoryEntry> entries;
  std::optional<int64_t> next_cursor;
};

struct AuditQuery {
  std::optional<std::string> actor;
  std::optional<std::string> since;
  int limit = 100;
};

struct AuditRow {
  int64_t id = 0;
  std::string at;
  std::string actor;
  std::string action;
  std::string arguments_json;
  std::string outcome;
  std::optional<int64_t> transaction_id;
  std::optional<std::string> message;
};

// What one pass of retry did (or, with --dry-run, would do) to a transaction.
struct RetryAction {
  int64_t transaction_id = 0;
  std::string kind;
  std::string action;  // posted, voided, deferred, would-settle, would-void
  std::string status;  // the transaction's status afterwards
  int attempts = 0;
  std::optional<std::string> next_attempt_at;
  std::string detail;
};

// One finding of reconciliation.
struct Drift {
  std::string check;  // balance, reserved, version, chain, hash, transaction, asset_sum, orphan, audit
  std::optional<int64_t> wallet_id;
  std::string user;
  std::string asset;
  int scale = 0;
  std::optional<int64_t> transaction_id;
  std::string stored;    // exact integers in minor units, as text (sums may exceed int64)
  std::string computed;
  std::string detail;
};

struct Stuck {
  int64_t transaction_id = 0;
  std::string kind;
  std::string asset;
  int64_t age_seconds = 0;
  int attempts = 0;
  std::optional<std::string> last_error;
  std::string reason;  // why it counts as stuck
};

struct ReconcileReport {
  bool full = false;
  int64_t wallets = 0;       // wallets whose entries were verified
  int64_t entries = 0;       // ledger entries verified
  int64_t transactions = 0;  // transactions checked against their entries
  int64_t assets = 0;
  int64_t audit_rows = 0;    // audit rows whose chain was recomputed (full runs)
  int64_t elapsed_ms = 0;
  // Read on a hot standby (pg_is_in_recovery()): nothing can be written
  // there, so the checkpoint stays where the primary's last clean run left
  // it and the run is not recorded in reconcile_runs.
  bool standby = false;
  // The login may advance the checkpoint (a member of wallet_verifier, or
  // the owner). The application role verifies from the checkpoint, does not
  // advance it and does not record the run.
  bool verifier = false;
  bool checkpoint_advanced = false;  // the checkpoint now includes this run
  std::vector<Drift> drift;
  std::vector<Stuck> stuck;
};

// One validated line of `walletctl import`, ready for the database (see
// wallet_import_batch in sql/functions/50_import.sql).
struct ImportLine {
  int64_t line = 0;               // line number in the file, for messages and the audit log
  bool creates_wallet = false;    // a `wallet` record: create to_user's wallet first
  std::optional<int64_t> amount;  // minor units; nullopt only for a wallet without opening balance
  std::string idempotency_key;    // empty exactly when amount is nullopt
  std::string fingerprint;
  std::string kind;
  std::string from_user;
  std::string to_user;
  std::string asset;
  std::string memo;
  std::string reference;  // empty: none
};

enum class ImportOutcome { applied, replayed, refused, not_found, conflict, invalid };

// What became of one ImportLine.
struct ImportLineResult {
  ImportOutcome outcome = ImportOutcome::invalid;
  std::optional<int64_t> transaction_id;  // the transaction recorded under the line's key
  std::string message;                    // empty for applied and replayed
};

// One versioned migration or function file, and whether the database holds it.
struct MigrationState {
  enum class Type { migration, functions };
  Type type = Type::migration;
  std::optional<int> version;             // migrations only
  std::string name;                       // migration name, or function file name
  std::optional<std::string> applied_at;  // nullopt: pending (a function file: this content not applied yet)
};

}  // namespace wallet
