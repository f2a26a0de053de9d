// Movements and what reads them: wallet_move and the two-phase entry
// points, a transaction's detail, history and the audit log.
#include <spdlog/spdlog.h>

#include "core/store/query.hpp"
#include "core/store/rows.hpp"
#include "core/store/store.hpp"

namespace wallet {

using rows::param;

Result<Movement> Store::move(const MovementRequest& r) {
  const std::optional<std::string> reference =
      r.reference.empty() ? std::nullopt : std::optional<std::string>(r.reference);
  // Autocommit: wallet_move() is one statement, hence one transaction.
  auto movement = transact(*this, r.kind, [&](Query& query) {
    return rows::movement_of(query.exec1(
        "move", r.idempotency_key, r.fingerprint, r.kind, r.from_user, r.to_user, r.asset, r.amount, r.memo,
        r.pending, static_cast<int64_t>(r.timeout.count()), r.actor, r.arguments_json, r.settle,
        static_cast<int64_t>(r.settle_lease.count()), param(reference)));
  });
  if (movement.ok()) {
    movement->key_generated = r.key_generated;
    movement->reference = reference;  // as stored (see WALLET_NEW_MOVEMENT_COLUMNS)
  }
  return movement;
}

Result<TransactionDetail> Store::transaction(int64_t id) {
  auto detail = transact<pqxx::read_transaction>(*this, "show", [&](Query& query) { return rows::read_detail(query, id); });
  if (!detail.ok()) return detail.status();
  if (!*detail) return Status::NotFound("transaction " + std::to_string(id) + " not found");
  return std::move(**detail);
}

Result<Movement> Store::post(int64_t id, std::optional<int64_t> amount, const std::string& actor,
                             const std::string& arguments_json) {
  const std::optional<std::string> amount_text =
      amount ? std::optional<std::string>(std::to_string(*amount)) : std::nullopt;
  return transact(*this, "post", [&](Query& query) {
    return rows::movement_of(query.exec1("post", id, param(amount_text), actor, arguments_json));
  });
}

Result<Movement> Store::void_transaction(int64_t id, const std::string& reason, const std::string& actor,
                                         const std::string& arguments_json) {
  return transact(*this, "void", [&](Query& query) {
    return rows::movement_of(query.exec1("void", id, reason, actor, arguments_json));
  });
}

Result<Movement> Store::reverse(int64_t id, const std::string& key, const std::string& actor,
                                const std::string& arguments_json) {
  return transact(*this, "reverse", [&](Query& query) {
    return rows::movement_of(query.exec1("reverse", id, key, actor, arguments_json));
  });
}

Result<HistoryPage> Store::history(const HistoryQuery& q) {
  struct Read {
    HistoryPage page;
    bool user_known = true;
  };
  const std::optional<std::string> cursor =
      q.cursor ? std::optional<std::string>(std::to_string(*q.cursor)) : std::nullopt;
  auto read = transact<pqxx::read_transaction>(*this, "history", [&](Query& query) {
    Read read;
    // One row more than asked tells whether there is a next page.
    const pqxx::result found = query.exec("history", q.user, param(q.asset), param(q.kind), param(q.status),
                                         param(q.since), param(q.until), q.limit + 1, param(cursor),
                                         param(q.reference));
    for (const auto& row : found) {
      if (static_cast<int>(read.page.entries.size()) == q.limit) {
        read.page.next_cursor = read.page.entries.back().transaction_id;
        break;
      }
      read.page.entries.push_back(rows::history_entry_of(row));
    }
    if (read.page.entries.empty()) {
      read.user_known = query.exec1("user_has_wallets", q.user, param(q.asset))[0].as<int64_t>() > 0;
    }
    return read;
  });
  if (!read.ok()) return read.status();
  if (!read->user_known) {
    return Status::NotFound(q.asset ? "wallet " + q.user + "/" + *q.asset + " not found"
                                    : "user " + q.user + " has no wallets");
  }
  return std::move(read->page);
}

Result<std::vector<AuditRow>> Store::audit(const AuditQuery& q) {
  return transact(*this, "audit", [&](Query& query) {
    std::vector<AuditRow> audit_rows;
    for (const auto& row : query.exec("audit", param(q.actor), param(q.since), q.limit)) {
      audit_rows.push_back(rows::audit_row_of(row));
    }
    return audit_rows;
  });
}

void Store::audit_failure(const std::string& actor, const std::string& action, const std::string& arguments_json,
                          const Status& failure) {
  const int attempts = last_attempts_;
  Status status = transact(*this, "audit", [&](Query& query) {
    query.exec("audit_failure", actor, action, arguments_json, std::string(code_name(failure.code())),
               failure.message());
  });
  last_attempts_ = attempts;
  if (!status.ok()) spdlog::warn("could not write the audit row for {}: {}", action, status.message());
}

}  // namespace wallet
