// The store's connection and its retry loop, the dry-run transaction, and
// the lookup of the core's statements by name.
#include "core/store/store.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

#include <pqxx/pqxx>
#include <random>
#include <spdlog/spdlog.h>
#include <thread>

#include "core/store/conninfo.hpp"
#include "core/store/errors.hpp"
#include "core/store/migrations.hpp"
#include "core/store/statements.hpp"
#include "core/store/query.hpp"

namespace wallet {

using store_errors::permanent_connection_error;
using store_errors::retryable_state;
using store_errors::server_message;
using store_errors::status_of;

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
  return redacted(status);
}

Status Store::connect() {
  return run("connect", [](pqxx::connection_base&) {});
}

Status Store::ping() {
  return transact(*this, "ping", [](Query& query) { query.exec("ping"); });
}

Status Store::run(const std::string& what, const std::function<void(pqxx::connection_base&)>& work) {
  // A malformed conninfo can never connect: said at once, not retried.
  if (!conninfo_status_) conninfo_status_ = check_conninfo(conninfo_);
  if (!conninfo_status_->ok()) {
    last_attempts_ = 0;
    return *conninfo_status_;
  }
  return redacted(attempts(what, work));
}

Status Store::redacted(const Status& status) const {
  if (status.ok()) return status;
  return Status(status.code(), redact_secrets(status.message(), conninfo_));
}

Status Store::attempts(const std::string& what, const std::function<void(pqxx::connection_base&)>& work) {
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
    spdlog::debug("{}: attempt {} failed ({}), retrying in {} ms", what, attempt,
                  redact_secrets(last_error, conninfo_), pause.count());
    std::this_thread::sleep_for(pause);
    backoff = std::min(backoff * 2, policy_.backoff_max);
  }
  return Status::Temporary(what + " failed after " + std::to_string(policy_.attempts_max) +
                           " attempts (last: " + last_error + "); safe to re-run");
}

}  // namespace wallet
