#include "core/store/statements.hpp"

namespace wallet::sql {

// Columns of a movement, in the order Store reads them.
#define WALLET_MOVEMENT_COLUMNS                                                          \
  "transaction_id, idempotency_key, status, kind, asset, scale, amount, from_user, "    \
  "to_user, memo, wallet_rfc3339(created_at), wallet_rfc3339(expires_at), replayed, "  \
  "error_code, error_message, posted_amount, "                                          \
  "(SELECT t.reference FROM transactions t WHERE t.id = transaction_id)"
// As WALLET_MOVEMENT_COLUMNS for wallet_move, whose new row the statement's
// snapshot does not see: Store::move fills the reference from the request
// (a replay's is the same: it is part of the fingerprint).
#define WALLET_NEW_MOVEMENT_COLUMNS                                                      \
  "transaction_id, idempotency_key, status, kind, asset, scale, amount, from_user, "    \
  "to_user, memo, wallet_rfc3339(created_at), wallet_rfc3339(expires_at), replayed, "  \
  "error_code, error_message, posted_amount, NULL::text"

const Statement kStatements[] = {
    {"asset_scale", "SELECT scale FROM assets WHERE code = $1"},
    {"ping", "SELECT 1"},
    {"asset_add",
     "SELECT code, scale, name, wallet_rfc3339(created_at) FROM wallet_asset_add($1, $2, $3, $4)"},
    {"assets", "SELECT code, scale, name, wallet_rfc3339(created_at) FROM assets ORDER BY code"},
    {"wallet_create",
     "SELECT w.id, w.user_id, w.asset, a.scale, w.balance, w.reserved, wallet_rfc3339(w.created_at) "
     "FROM wallet_create($1, $2, $3) w JOIN assets a ON a.code = w.asset"},
    {"wallets",
     "SELECT w.id, w.user_id, w.asset, a.scale, w.balance, w.reserved, wallet_rfc3339(w.created_at) "
     "FROM wallets w JOIN assets a ON a.code = w.asset "
     "WHERE NOT w.is_system AND ($1::text IS NULL OR w.user_id = $1) "
     "AND ($2::text IS NULL OR w.asset = $2) ORDER BY w.user_id, w.asset"},
    {"balances",
     "SELECT w.user_id, w.asset, a.scale, sum(w.balance)::bigint, sum(w.reserved)::bigint "
     "FROM wallets w JOIN assets a ON a.code = w.asset "
     "WHERE w.user_id = $1 AND ($2::text IS NULL OR w.asset = $2) "
     "GROUP BY w.user_id, w.asset, a.scale ORDER BY w.asset"},
    {"move",
     "SELECT " WALLET_NEW_MOVEMENT_COLUMNS " FROM wallet_move($1, $2, $3, $4, $5, $6, $7, $8, $9, "
     "$10::bigint * interval '1 millisecond', $11, $12::jsonb, $13, "
     "$14::bigint * interval '1 millisecond', $15)"},
    {"transaction",
     "WITH m AS (SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_movement_of($1, false) "
     "WHERE transaction_id IS NOT NULL) "
     "SELECT m.*, wallet_rfc3339(t.updated_at), t.attempts, wallet_rfc3339(t.next_attempt_at), "
     "t.last_error, t.reverses_id, t.settle, t.actor FROM m JOIN transactions t ON t.id = m.transaction_id"},
    {"post", "SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_post($1, $2, $3, $4::jsonb)"},
    {"void", "SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_void($1, $2, $3, $4::jsonb)"},
    {"reverse", "SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_reverse($1, $2, $3, $4::jsonb)"},
    {"settlement_deferred",
     "SELECT " WALLET_MOVEMENT_COLUMNS
     " FROM wallet_settlement_deferred($1, $2, $3::bigint * interval '1 millisecond', $4)"},
    {"settlement_attempted", "SELECT wallet_settlement_attempted($1)"},
    {"settlement_reference", "SELECT wallet_settlement_reference($1, $2)"},
    // Claims one pending transaction for this process: other retry runs
    // and walletd workers skip it while we hold the lock.
    {"claim_transaction", "SELECT claimed_id, claimed_settle FROM wallet_claim_transaction($1)"},
    // $2: the start of this retry run (NULL: now). A settlement deferred
    // during the run is due after it, so one run handles it at most once.
    {"claim_due",
     "SELECT claimed_id, claimed_settle, claimed_run_started FROM wallet_claim_due($1, $2::timestamptz)"},
    {"due",
     "SELECT id, settle FROM transactions WHERE status = 'pending' "
     "AND ((settle AND $1 AND next_attempt_at <= now()) OR (NOT settle AND expires_at <= now())) "
     "ORDER BY id LIMIT $2"},
    {"entries",
     "SELECT e.id, w.user_id, e.wallet_id, e.amount, e.version, e.balance_before, e.balance_after, "
     "encode(e.hash, 'hex'), wallet_rfc3339(e.created_at) "
     "FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id "
     "WHERE e.transaction_id = $1 ORDER BY e.amount, e.id"},
    // Newest first, keyset-paginated by transaction id. Each branch walks an
    // (wallet, id) index backwards, so a page costs O(limit), not O(history).
    // Newest first, keyset-paginated by transaction id. For each of the
    // user's wallets, each side walks its (wallet, id) index backwards and
    // stops after one page, so a page costs O(wallets x limit), not
    // O(history) or O(table). With a reference ($9), the reference's index
    // finds the few transactions instead (the walks are one-time-filtered
    // off), so a rare reference on a busy account is not a scan of it.
    {"history",
     "WITH w AS MATERIALIZED (SELECT id FROM wallets WHERE user_id = $1 AND ($2::text IS NULL OR asset = $2)), "
     "ids AS ("
     " SELECT d.id FROM w CROSS JOIN LATERAL (SELECT t.id FROM transactions t WHERE t.debit_wallet_id = w.id"
     "  AND ($8::bigint IS NULL OR t.id < $8) AND ($3::text IS NULL OR t.kind = $3)"
     "  AND ($4::text IS NULL OR t.status = $4) AND ($5::timestamptz IS NULL OR t.created_at >= $5)"
     "  AND ($6::timestamptz IS NULL OR t.created_at < $6) AND $9::text IS NULL ORDER BY t.id DESC LIMIT $7) d"
     " UNION "
     " SELECT c.id FROM w CROSS JOIN LATERAL (SELECT t.id FROM transactions t WHERE t.credit_wallet_id = w.id"
     "  AND ($8::bigint IS NULL OR t.id < $8) AND ($3::text IS NULL OR t.kind = $3)"
     "  AND ($4::text IS NULL OR t.status = $4) AND ($5::timestamptz IS NULL OR t.created_at >= $5)"
     "  AND ($6::timestamptz IS NULL OR t.created_at < $6) AND $9::text IS NULL ORDER BY t.id DESC LIMIT $7) c"
     " UNION "
     " SELECT t.id FROM transactions t WHERE $9::text IS NOT NULL AND t.reference = $9"
     "  AND (t.debit_wallet_id IN (SELECT id FROM w) OR t.credit_wallet_id IN (SELECT id FROM w))"
     "  AND ($8::bigint IS NULL OR t.id < $8) AND ($3::text IS NULL OR t.kind = $3)"
     "  AND ($4::text IS NULL OR t.status = $4) AND ($5::timestamptz IS NULL OR t.created_at >= $5)"
     "  AND ($6::timestamptz IS NULL OR t.created_at < $6)) "
     "SELECT t.id, t.kind, t.status, t.asset, a.scale, "
     " coalesce(e.amount, CASE WHEN dw.user_id = $1 THEN -t.amount ELSE t.amount END), "
     " e.balance_after, CASE WHEN dw.user_id = $1 THEN cw.user_id ELSE dw.user_id END, "
     " wallet_rfc3339(t.created_at), t.memo, t.reference "
     "FROM (SELECT id FROM ids ORDER BY id DESC LIMIT $7) ids JOIN transactions t ON t.id = ids.id "
     "JOIN assets a ON a.code = t.asset "
     "JOIN wallets dw ON dw.id = t.debit_wallet_id JOIN wallets cw ON cw.id = t.credit_wallet_id "
     "LEFT JOIN ledger_entries e ON e.transaction_id = t.id AND e.wallet_id IN (SELECT id FROM w) "
     "ORDER BY t.id DESC"},
    {"user_has_wallets",
     "SELECT count(*) FROM wallets WHERE user_id = $1 AND ($2::text IS NULL OR asset = $2)"},
    {"audit",
     "SELECT id, wallet_rfc3339(at), actor, action, arguments::text, outcome, transaction_id, message "
     "FROM audit_log WHERE ($1::text IS NULL OR actor = $1) "
     "AND ($2::timestamptz IS NULL OR at >= $2) ORDER BY id DESC LIMIT $3"},
    {"audit_failure", "SELECT wallet_audit_failure($1, $2, $3::jsonb, $4, $5)"},
    // ---- bulk import (store_import.cpp) ----
    {"import_batch",
     "SELECT ordinal, outcome, transaction_id, message FROM wallet_import_batch($1::bigint[], $2::boolean[], "
     "$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11, $12, "
     "$13::text[])"},
    // A dry run's batches evaluate without locking or writing (sql/functions/50_import.sql).
    {"import_dry_run_begin", "SELECT set_config('wallet.import_dry_run', 'on', true)"},
};
const std::size_t kStatementCount = sizeof kStatements / sizeof kStatements[0];

#undef WALLET_MOVEMENT_COLUMNS
#undef WALLET_NEW_MOVEMENT_COLUMNS

// Any constant works; it only has to be the same in every walletctl.
const std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(727411001)";
const std::string_view kMigrationTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
const std::string_view kMigrationApplied =
    "SELECT version, name, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "FROM schema_migrations ORDER BY version";
const std::string_view kMigrationExists = "SELECT to_regclass('schema_migrations') IS NOT NULL";
const std::string_view kMigrationPrivileges =
    "DO $$ BEGIN IF to_regprocedure('wallet_apply_privileges()') IS NOT NULL THEN "
    "PERFORM wallet_apply_privileges(); END IF; END $$";
const std::string_view kMigrationRecord = "INSERT INTO schema_migrations(version, name) VALUES ($1, $2)";
const std::string_view kMigrationHighest = "SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1";
const std::string_view kFunctionTable =
    "CREATE TABLE IF NOT EXISTS schema_functions ("
    " name text PRIMARY KEY, sha256 text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
const std::string_view kFunctionApplied =
    "SELECT name, sha256, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "FROM schema_functions ORDER BY name";
const std::string_view kFunctionRecord =
    "INSERT INTO schema_functions(name, sha256) VALUES ($1, $2) "
    "ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()";
const std::string_view kFunctionExists = "SELECT to_regclass('schema_functions') IS NOT NULL";

}  // namespace wallet::sql
