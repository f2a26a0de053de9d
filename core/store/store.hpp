// The database layer: the only part of the program that talks to PostgreSQL.
//
// A Store owns one connection (opened lazily, reopened after it breaks) and
// runs every statement of statements.cpp as a prepared statement. Its
// files, by concern: connection.cpp (the connection, the retry loop, the
// dry-run transaction), errors.cpp (libpqxx exceptions to Status),
// query.hpp (the query helper that every operation goes through, also used
// by reconcile/ for its own SQL), rows.cpp (row decoders), catalog.cpp
// (assets, wallets, balances), movements.cpp (movements, detail, history,
// audit), pending.cpp (claiming and driving pending transactions),
// store_import.cpp (bulk import) and migrate.cpp (schema migrations). Each
// operation is one database transaction; money movements are one call of
// the server-side function wallet_move() in autocommit, so a movement costs
// one round trip and is atomic.
//
// Retry policy (like libpqxx's perform()): serialization failures,
// deadlocks, and broken connections are retried with a new connection, up
// to kAttemptsMax times with jittered exponential backoff. A movement whose
// outcome is unknown (the connection broke during it) is settled by running
// it again under the same idempotency key: wallet_move() replays it if it
// had committed. When the attempts run out the result is Code::temporary,
// whose message says what was tried (safe to re-run with the same key).
// A connection string that does not parse is Code::invalid at once, and
// failures no retry can fix (a wrong password, a missing role or database)
// are not retried either. No message leaving the store carries a password
// (redact_secrets in conninfo.hpp).
//
// Statements are prepared once per connection by default. Without prepared
// statements (StoreOptions, for PgBouncer in transaction pooling mode, which
// hands each transaction to any server connection and so loses named
// statements between them), each one is sent unnamed with its parameters
// (PQexecParams): parsed and planned every time, no state outlives the
// transaction. Nothing else here uses session state: advisory locks are
// transaction-scoped (pg_advisory_xact_lock), SET is SET LOCAL, and there is
// no LISTEN and no temporary table.
//
// Not thread-safe: one Store per thread. Every method returns a Status on
// failure and never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ledger/settlement.hpp"
#include "core/domain/status.hpp"
#include "core/domain/types.hpp"

namespace pqxx {
class connection_base;
class transaction_base;
}

namespace wallet {

struct RetryPolicy {
  int attempts_max = 6;                            // first try + 5 retries
  std::chrono::milliseconds backoff_first{25};     // doubles each retry
  std::chrono::milliseconds backoff_max{1'000};    // so the whole loop stays under ~3 s
};

struct StoreOptions {
  // false: send every statement unnamed instead of preparing it (see above).
  bool prepared_statements = true;
};

class Store {
 public:
  explicit Store(std::string conninfo, RetryPolicy policy = {}, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens the connection now (otherwise the first operation does).
  Status connect();
  // Runs a trivial query: the database is reachable and answering.
  Status ping();

  // Schema.
  Result<std::vector<MigrationState>> migration_status();
  // Applies pending migrations under an advisory lock; returns those applied.
  Result<std::vector<MigrationState>> migrate();

  Result<Asset> asset_add(const std::string& code, int scale, const std::string& name,
                          const std::string& actor);
  Result<std::vector<Asset>> assets();
  // The scale of an asset, cached for the life of the Store (scale never changes).
  Result<int> asset_scale(const std::string& code);

  Result<Wallet> wallet_create(const std::string& user, const std::string& asset,
                               const std::string& actor);
  Result<std::vector<Wallet>> wallets(const std::optional<std::string>& user,
                                      const std::optional<std::string>& asset);
  Result<std::vector<Balance>> balances(const std::string& user,
                                        const std::optional<std::string>& asset);

  Result<Movement> move(const MovementRequest& request);
  Result<TransactionDetail> transaction(int64_t id);
  Result<HistoryPage> history(const HistoryQuery& query);
  Result<std::vector<AuditRow>> audit(const AuditQuery& query);

  // Two-phase transfers (see sql/migrations/0002_holds.sql for the rules).
  Result<Movement> post(int64_t id, std::optional<int64_t> amount, const std::string& actor,
                        const std::string& arguments_json);
  Result<Movement> void_transaction(int64_t id, const std::string& reason, const std::string& actor,
                                    const std::string& arguments_json);
  Result<Movement> reverse(int64_t id, const std::string& key, const std::string& actor,
                           const std::string& arguments_json);

  // Decides a pending withdrawal by running the settlement command.
  using SettlementHandler = std::function<SettlementOutcome(const TransactionDetail&)>;

  // Claims one pending transaction -- `id`, or else the next one that is
  // due (a settlement whose next attempt is due, when `settle` is given; a
  // hold past its expiry) -- with FOR UPDATE SKIP LOCKED, so concurrent
  // callers never handle the same one, and drives it in that same database
  // transaction: settlements through `settle` (post, void, or defer with
  // backoff), expired holds are voided. nullopt when there was nothing to
  // claim (or `id` is locked by someone else, or no longer pending).
  // `run_started` (database time, empty at first) is set by the first
  // claim; passing it back keeps one retry run from claiming a settlement
  // it deferred itself.
  Result<std::optional<RetryAction>> drive_pending(std::optional<int64_t> id, const SettlementHandler* settle,
                                                   const std::string& actor, std::string* run_started = nullptr);
  // What drive_pending would claim next (for --dry-run); takes no locks.
  Result<std::vector<RetryAction>> due_pending(bool settle_enabled, int limit);

  // Bulk import (store_import.cpp; the rules are wallet_import_batch's in
  // sql/migrations/0003_import.sql). Applies `lines` in one database
  // transaction and returns one result per line, in order. Retried like a
  // movement: a retry after an unknown outcome replays what had committed
  // (those lines then report replayed). `source` names the input in the
  // audit row. Inside a dry run, the batch joins the dry-run transaction
  // and is not retried.
  Result<std::vector<ImportLineResult>> import_batch(const std::vector<ImportLine>& lines, const std::string& actor,
                                                     const std::string& source);
  // Starts a dry run: every import_batch until dry_run_end() runs in one
  // database transaction, so later batches see what earlier ones would have
  // done, and dry_run_end() rolls it all back. It holds the locks of the
  // wallets it touched until then. Other operations must not be called in
  // between (they would need the connection the dry run holds).
  Status dry_run_begin();
  void dry_run_end();

  // Records an operator action that failed before it changed anything.
  // Best effort: a failure to write it is logged, not returned.
  void audit_failure(const std::string& actor, const std::string& action,
                     const std::string& arguments_json, const Status& status);

  // Number of attempts the last operation took (for tests and metrics).
  int last_attempts() const { return last_attempts_; }
  const StoreOptions& options() const { return options_; }

  // Runs `work` with the retry policy: the loop under every operation (see
  // transact() in query.hpp, which most callers want instead); exposed so
  // tests can inject libpqxx exceptions and count attempts. `work` must be safe to run again after
  // an unknown outcome (every write here is guarded by a key or a unique
  // constraint, so running it again settles it).
  Status run(const std::string& what, const std::function<void(pqxx::connection_base&)>& work);

 private:
  pqxx::connection_base& connection();
  void drop_connection();
  bool in_dry_run() const;
  // The retry loop of run(), once the conninfo is known to parse.
  Status attempts(const std::string& what, const std::function<void(pqxx::connection_base&)>& work);
  // `status` with the passwords of conninfo_ (and of any connection string
  // in its message) redacted: every Status leaving the store goes through it.
  Status redacted(const Status& status) const;
  // Runs `work` once inside the open dry-run transaction; any failure ends
  // the dry run (nothing to retry: its earlier batches are gone with it).
  Status run_in_dry_run(const std::string& what, const std::function<void(pqxx::transaction_base&)>& work);

  std::string conninfo_;
  std::optional<Status> conninfo_status_;  // check_conninfo(conninfo_), on first use
  RetryPolicy policy_;
  StoreOptions options_;
  struct Connection;
  std::unique_ptr<Connection> connection_;
  std::map<std::string, int> scales_;
  int last_attempts_ = 0;
};

}  // namespace wallet
