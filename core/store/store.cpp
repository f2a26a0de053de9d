#include "core/store/store.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

#include <pqxx/pqxx>
#include <set>
#include <random>
#include <spdlog/spdlog.h>
#include <thread>

#include "core/store/errors.hpp"
#include "core/store/migrations.hpp"
#include "core/store/statements.hpp"
#include "core/store/store_statements.hpp"

namespace wallet {

using store_errors::permanent_connection_error;
using store_errors::retryable_state;
using store_errors::server_message;
using store_errors::status_of;

namespace {

// NULL for an empty optional (libpqxx 6 sends a null const char* as NULL).
const char* param(const std::optional<std::string>& value) {
  return value ? value->c_str() : nullptr;
}

std::optional<std::string> optional_text(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

std::optional<int64_t> optional_int(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<int64_t>();
}

Movement movement_of(const pqxx::row& row) {
  Movement m;
  m.transaction_id = row[0].as<int64_t>();
  m.idempotency_key = row[1].as<std::string>();
  m.status = row[2].as<std::string>();
  m.kind = row[3].as<std::string>();
  m.asset = row[4].as<std::string>();
  m.scale = row[5].as<int>();
  m.amount = row[6].as<int64_t>();
  m.from_user = row[7].as<std::string>();
  m.to_user = row[8].as<std::string>();
  m.memo = row[9].as<std::string>();
  m.created_at = row[10].as<std::string>();
  m.expires_at = optional_text(row[11]);
  m.replayed = row[12].as<bool>();
  m.error_code = row[13].is_null() ? "" : row[13].as<std::string>();
  m.error_message = row[14].is_null() ? "" : row[14].as<std::string>();
  m.posted_amount = optional_int(row[15]);
  return m;
}

Asset asset_of(const pqxx::row& row) {
  return Asset{row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>(),
               row[3].as<std::string>()};
}

Wallet wallet_of(const pqxx::row& row) {
  return Wallet{row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                row[3].as<int>(),     row[4].as<int64_t>(),     row[5].as<int64_t>(),
                row[6].as<std::string>()};
}

// The transaction `id` with its entries, read in db's transaction; nullopt if absent.
std::optional<TransactionDetail> read_detail(Statements& db, int64_t id) {
  auto rows = db.exec("transaction", id);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  TransactionDetail d;
  d.movement = movement_of(row);
  d.updated_at = row[16].as<std::string>();
  d.attempts = row[17].as<int>();
  d.next_attempt_at = optional_text(row[18]);
  d.last_error = optional_text(row[19]);
  d.reverses_id = optional_int(row[20]);
  d.settle = row[21].as<bool>();
  for (const auto& e : db.exec("entries", id)) {
    d.entries.push_back({e[0].as<int64_t>(), e[1].as<std::string>(), e[2].as<int64_t>(), e[3].as<int64_t>(),
                         e[4].as<int64_t>(), e[5].as<int64_t>(), e[6].as<int64_t>(), e[7].as<std::string>(),
                         e[8].as<std::string>()});
  }
  return d;
}

}  // namespace

const std::string& statement_text(std::string_view name) {
  // Built once, on first use (thread-safe static initialization).
  static const std::map<std::string_view, std::string> texts = [] {
    std::map<std::string_view, std::string> m;
    for (std::size_t i = 0; i < sql::kStatementCount; ++i) m.emplace(sql::kStatements[i].name, sql::kStatements[i].text);
    return m;
  }();
  auto it = texts.find(name);
  // A name not in kStatements is a programmer error; thrown (the retry loop
  // reports it as internal) rather than asserted, so release builds fail cleanly too.
  if (it == texts.end()) throw std::logic_error("statement " + std::string(name) + " not in sql::kStatements");
  return it->second;
}

Store::Store(std::string conninfo, RetryPolicy policy, StoreOptions options)
    : conninfo_(std::move(conninfo)), policy_(policy), options_(options) {}

Store::~Store() = default;

struct Store::Connection {
  explicit Connection(const std::string& conninfo) : connection(conninfo) {}
  pqxx::connection connection;
  std::unique_ptr<pqxx::work> dry_run;  // declared after connection: destroyed first
};

pqxx::connection_base& Store::connection() {
  if (!connection_ || !connection_->connection.is_open()) {
    connection_.reset();
    connection_ = std::make_unique<Connection>(conninfo_);
    try {
      require_known_schema(connection_->connection);
    } catch (const std::runtime_error&) {
      connection_.reset();  // checked again on the next connection
      throw;
    }
    // libpqxx 6 prepares lazily: this only registers the texts, each is
    // prepared on the server at its first use on this connection.
    for (std::size_t i = 0; options_.prepared_statements && i < sql::kStatementCount; ++i) {
      connection_->connection.prepare(std::string(sql::kStatements[i].name),
                                      std::string(sql::kStatements[i].text));
    }
  }
  return connection_->connection;
}

void Store::drop_connection() {
  try {
    connection_.reset();
  } catch (...) {  // closing a broken connection must not throw out of the retry loop
  }
}

bool Store::in_dry_run() const { return connection_ && connection_->dry_run; }

Status Store::dry_run_begin() {
  assert(!in_dry_run());
  return run("import --dry-run", [&](pqxx::connection_base& c) {
    connection_->dry_run = std::make_unique<pqxx::work>(c, "dry_run");
  });
}

void Store::dry_run_end() {
  if (!in_dry_run()) return;
  try {
    connection_->dry_run->abort();
    connection_->dry_run.reset();
  } catch (const std::exception& error) {
    // The rollback failed, so the connection is broken: the server rolls
    // the transaction back when it notices.
    spdlog::debug("dry run rollback: {}", error.what());
    drop_connection();
  }
}

Status Store::run_in_dry_run(const std::string& what, const std::function<void(pqxx::transaction_base&)>& work) {
  assert(in_dry_run());
  last_attempts_ = 1;
  Status status;
  try {
    work(*connection_->dry_run);
    return Status::Ok();
  } catch (const pqxx::sql_error& error) {
    status = retryable_state(error.sqlstate())
                 ? Status::Temporary(what + " (dry run) was interrupted: " + server_message(error) +
                                     "; nothing was written, run it again")
                 : status_of(error);
  } catch (const pqxx::failure& error) {
    status = Status::Temporary(what + " (dry run) was interrupted: " + server_message(error) +
                               "; nothing was written, run it again");
  } catch (const std::exception& error) {
    status = Status::Internal(what + ": " + error.what());
  }
  dry_run_end();
  return status;
}

Status Store::connect() {
  return run("connect", [](pqxx::connection_base&) {});
}

Status Store::ping() {
  return run("ping", [this](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    db.exec("ping");
  });
}

Result<int64_t> Store::stuck_count(Milliseconds stuck_after) {
  int64_t count = 0;
  Status status = run("stuck count", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    count = db.exec1("stuck_count", static_cast<int64_t>(stuck_after.count()))[0].as<int64_t>();
  });
  if (!status.ok()) return status;
  return count;
}

Status Store::run(const std::string& what, const std::function<void(pqxx::connection_base&)>& work) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::string last_error;
  last_attempts_ = 0;
  auto backoff = policy_.backoff_first;
  for (int attempt = 1; attempt <= policy_.attempts_max; ++attempt) {
    last_attempts_ = attempt;
    try {
      work(connection());
      return Status::Ok();
    } catch (const pqxx::in_doubt_error& error) {
      // The commit's outcome is unknown. Every write we make is idempotent
      // (keys, unique constraints), so running it again settles it.
      last_error = "outcome unknown: " + server_message(error);
      drop_connection();
    } catch (const pqxx::broken_connection& error) {
      last_error = "connection failed: " + server_message(error);
      drop_connection();
      // Some connection failures are not worth a retry: a malformed
      // conninfo, a wrong password, a database or role that does not exist.
      if (Status permanent = permanent_connection_error(last_error); !permanent.ok()) return permanent;
    } catch (const pqxx::sql_error& error) {
      if (!retryable_state(error.sqlstate())) return status_of(error);
      last_error = server_message(error);
      if (error.sqlstate().rfind("40", 0) != 0) drop_connection();
    } catch (const pqxx::failure& error) {
      // Other libpqxx failures, e.g. "Lost connection" outside a statement.
      last_error = server_message(error);
      drop_connection();
    } catch (const std::exception& error) {
      return Status::Internal(what + ": " + error.what());
    }
    if (attempt == policy_.attempts_max) break;
    std::uniform_int_distribution<int64_t> jitter(0, backoff.count());
    const auto pause = backoff / 2 + std::chrono::milliseconds(jitter(random) / 2);
    spdlog::debug("{}: attempt {} failed ({}), retrying in {} ms", what, attempt, last_error,
                  pause.count());
    std::this_thread::sleep_for(pause);
    backoff = std::min(backoff * 2, policy_.backoff_max);
  }
  return Status::Temporary(what + " failed after " + std::to_string(policy_.attempts_max) +
                           " attempts (last: " + last_error + "); safe to re-run");
}

Result<Asset> Store::asset_add(const std::string& code, int scale, const std::string& name,
                               const std::string& actor) {
  std::optional<Asset> asset;
  Status status = run("asset add", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    asset = asset_of(db.exec1("asset_add", code, scale, name, actor));
  });
  if (!status.ok()) return status;
  scales_[code] = asset->scale;
  return *asset;
}

Result<std::vector<Asset>> Store::assets() {
  std::vector<Asset> assets;
  Status status = run("asset list", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    assets.clear();
    for (const auto& row : db.exec("assets")) assets.push_back(asset_of(row));
  });
  if (!status.ok()) return status;
  return assets;
}

Result<int> Store::asset_scale(const std::string& code) {
  if (auto it = scales_.find(code); it != scales_.end()) return it->second;
  std::optional<int> scale;
  Status status = run("asset lookup", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    auto result = db.exec("asset_scale", code);
    scale = result.empty() ? std::nullopt : std::optional<int>(result[0][0].as<int>());
  });
  if (!status.ok()) return status;
  if (!scale) return Status::NotFound("asset " + code + " not found");
  scales_[code] = *scale;
  return *scale;
}

Result<Wallet> Store::wallet_create(const std::string& user, const std::string& asset,
                                    const std::string& actor) {
  std::optional<Wallet> wallet;
  Status status = run("wallet create", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    wallet = wallet_of(db.exec1("wallet_create", user, asset, actor));
  });
  if (!status.ok()) return status;
  return *wallet;
}

Result<std::vector<Wallet>> Store::wallets(const std::optional<std::string>& user,
                                           const std::optional<std::string>& asset) {
  std::vector<Wallet> wallets;
  Status status = run("wallet list", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    wallets.clear();
    for (const auto& row : db.exec("wallets", param(user), param(asset))) {
      wallets.push_back(wallet_of(row));
    }
  });
  if (!status.ok()) return status;
  return wallets;
}

Result<std::vector<Balance>> Store::balances(const std::string& user,
                                             const std::optional<std::string>& asset) {
  std::vector<Balance> balances;
  Status status = run("balance", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    balances.clear();
    for (const auto& row : db.exec("balances", user, param(asset))) {
      balances.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(),
                          row[3].as<int64_t>(), row[4].as<int64_t>()});
    }
  });
  if (!status.ok()) return status;
  if (balances.empty()) {
    return Status::NotFound(asset ? "wallet " + user + "/" + *asset + " not found"
                                  : "user " + user + " has no wallets");
  }
  return balances;
}

Result<Movement> Store::move(const MovementRequest& r) {
  std::optional<Movement> movement;
  Status status = run(r.kind, [&](pqxx::connection_base& c) {
    // Autocommit: wallet_move() is one statement, hence one transaction.
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    movement = movement_of(db.exec1(
        "move", r.idempotency_key, r.fingerprint, r.kind, r.from_user, r.to_user, r.asset,
        r.amount, r.memo, r.pending, static_cast<int64_t>(r.timeout.count()), r.actor,
        r.arguments_json, r.settle, static_cast<int64_t>(r.settle_lease.count())));
  });
  if (!status.ok()) return status;
  movement->key_generated = r.key_generated;
  return *movement;
}

Result<TransactionDetail> Store::transaction(int64_t id) {
  std::optional<TransactionDetail> detail;
  Status status = run("show", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    Statements db(tx, options_);
    detail = read_detail(db, id);
  });
  if (!status.ok()) return status;
  if (!detail) return Status::NotFound("transaction " + std::to_string(id) + " not found");
  return *detail;
}

Result<Movement> Store::post(int64_t id, std::optional<int64_t> amount, const std::string& actor,
                             const std::string& arguments_json) {
  std::optional<Movement> movement;
  const std::optional<std::string> amount_text =
      amount ? std::optional<std::string>(std::to_string(*amount)) : std::nullopt;
  Status status = run("post", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    movement = movement_of(db.exec1("post", id, param(amount_text), actor, arguments_json));
  });
  if (!status.ok()) return status;
  return *movement;
}

Result<Movement> Store::void_transaction(int64_t id, const std::string& reason, const std::string& actor,
                                         const std::string& arguments_json) {
  std::optional<Movement> movement;
  Status status = run("void", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    movement = movement_of(db.exec1("void", id, reason, actor, arguments_json));
  });
  if (!status.ok()) return status;
  return *movement;
}

Result<Movement> Store::reverse(int64_t id, const std::string& key, const std::string& actor,
                                const std::string& arguments_json) {
  std::optional<Movement> movement;
  Status status = run("reverse", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    movement = movement_of(db.exec1("reverse", id, key, actor, arguments_json));
  });
  if (!status.ok()) return status;
  return *movement;
}

Result<std::optional<RetryAction>> Store::drive_pending(std::optional<int64_t> id, const SettlementHandler* settle,
                                                        const std::string& actor, std::string* run_started) {
  const std::optional<std::string> cutoff =
      run_started != nullptr && !run_started->empty() ? std::optional<std::string>(*run_started) : std::nullopt;
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::optional<RetryAction> action;
  Status status = run("retry", [&](pqxx::connection_base& c) {
    action.reset();
    pqxx::work tx(c);
    Statements db(tx, options_);
    auto claimed = id ? db.exec("claim_transaction", *id)
                      : db.exec("claim_due", settle != nullptr, param(cutoff));
    if (claimed.empty()) return;
    if (!id && run_started != nullptr && run_started->empty()) *run_started = claimed[0][2].as<std::string>();
    const int64_t txn = claimed[0][0].as<int64_t>();
    const bool is_settlement = claimed[0][1].as<bool>();
    auto detail = read_detail(db, txn);
    RetryAction a;
    a.transaction_id = txn;
    a.kind = detail->movement.kind;
    const std::string arguments = "{\"transaction\": " + std::to_string(txn) + "}";
    std::optional<Movement> after;
    if (!is_settlement) {
      a.action = "voided";
      a.detail = "hold expired at " + detail->movement.expires_at.value_or("?");
      after = movement_of(db.exec1("void", txn, a.detail, actor, arguments));
    } else if (settle == nullptr) {
      return;  // a settlement, but no command configured here: leave it
    } else {
      const SettlementOutcome outcome = (*settle)(*detail);
      a.detail = outcome.reason;
      if (outcome.decision == SettlementDecision::retry) {
        const auto delay = settlement_backoff(detail->attempts + 1, random);
        a.action = "deferred";
        after = movement_of(db.exec1("settlement_deferred", txn, outcome.reason,
                                              static_cast<int64_t>(delay.count()), actor));
      } else {
        db.exec("settlement_attempted", txn);
        if (outcome.decision == SettlementDecision::confirmed) {
          a.action = "posted";
          after = movement_of(db.exec1("post", txn, nullptr, actor, arguments));
        } else {
          a.action = "voided";
          after = movement_of(db.exec1("void", txn, outcome.reason, actor, arguments));
        }
      }
    }
    auto final_detail = read_detail(db, txn);
    tx.commit();
    a.status = after->status;
    a.attempts = final_detail->attempts;
    a.next_attempt_at = final_detail->next_attempt_at;
    action = a;
  });
  if (!status.ok()) return status;
  return action;
}

Result<std::vector<RetryAction>> Store::due_pending(bool settle_enabled, int limit) {
  std::vector<RetryAction> actions;
  Status status = run("retry --dry-run", [&](pqxx::connection_base& c) {
    actions.clear();
    pqxx::read_transaction tx(c);
    Statements db(tx, options_);
    for (const auto& row : db.exec("due", settle_enabled, limit)) {
      auto detail = read_detail(db, row[0].as<int64_t>());
      if (!detail) continue;
      RetryAction a;
      a.transaction_id = detail->movement.transaction_id;
      a.kind = detail->movement.kind;
      a.status = detail->movement.status;
      a.attempts = detail->attempts;
      a.next_attempt_at = detail->next_attempt_at;
      const bool is_settlement = row[1].as<bool>();
      a.action = is_settlement ? "would-settle" : "would-void";
      a.detail = is_settlement ? "settlement attempt due" : "hold expired at " + detail->movement.expires_at.value_or("?");
      actions.push_back(a);
    }
  });
  if (!status.ok()) return status;
  return actions;
}

Result<HistoryPage> Store::history(const HistoryQuery& q) {
  HistoryPage page;
  bool user_known = true;
  Status status = run("history", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    Statements db(tx, options_);
    page = {};
    const std::optional<std::string> cursor =
        q.cursor ? std::optional<std::string>(std::to_string(*q.cursor)) : std::nullopt;
    // One row more than asked tells whether there is a next page.
    auto rows = db.exec("history", q.user, param(q.asset), param(q.kind), param(q.status),
                                 param(q.since), param(q.until), q.limit + 1, param(cursor));
    for (const auto& row : rows) {
      if (static_cast<int>(page.entries.size()) == q.limit) {
        page.next_cursor = page.entries.back().transaction_id;
        break;
      }
      page.entries.push_back({row[0].as<int64_t>(), row[1].as<std::string>(),
                              row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<int>(),
                              row[5].as<int64_t>(), optional_int(row[6]), row[7].as<std::string>(),
                              row[8].as<std::string>(), row[9].as<std::string>()});
    }
    if (page.entries.empty()) {
      user_known = db.exec1("user_has_wallets", q.user, param(q.asset))[0].as<int64_t>() > 0;
    }
  });
  if (!status.ok()) return status;
  if (!user_known) {
    return Status::NotFound(q.asset ? "wallet " + q.user + "/" + *q.asset + " not found"
                                    : "user " + q.user + " has no wallets");
  }
  return page;
}

Result<std::vector<AuditRow>> Store::audit(const AuditQuery& q) {
  std::vector<AuditRow> rows;
  Status status = run("audit", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    rows.clear();
    for (const auto& r : db.exec("audit", param(q.actor), param(q.since), q.limit)) {
      rows.push_back({r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                      r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::string>(),
                      optional_int(r[6]), optional_text(r[7])});
    }
  });
  if (!status.ok()) return status;
  return rows;
}

void Store::audit_failure(const std::string& actor, const std::string& action,
                          const std::string& arguments_json, const Status& failure) {
  const int attempts = last_attempts_;
  Status status = run("audit", [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    Statements db(tx, options_);
    db.exec("audit_failure", actor, action, arguments_json,
                     std::string(code_name(failure.code())), failure.message());
  });
  last_attempts_ = attempts;
  if (!status.ok()) spdlog::warn("could not write the audit row for {}: {}", action, status.message());
}

}  // namespace wallet
