#include "core/store/statements.hpp"

namespace wallet::sql {

// Columns of a movement, in the order Store reads them.
#define WALLET_MOVEMENT_COLUMNS                                                          \
  "transaction_id, idempotency_key, status, kind, asset, scale, amount, from_user, "    \
  "to_user, memo, wallet_rfc3339(created_at), wallet_rfc3339(expires_at), replayed, "  \
  "error_code, error_message, posted_amount"

// The end shared by both reconcile_chunk statements: compare each checked
// wallet with the end of its chain, then sum per asset.
#define WALLET_RECONCILE_RESULT                                                                          \
  "checked AS MATERIALIZED ("                                                                            \
  " SELECT m.*, coalesce(p.moved_sum, 0) AS moved_sum, coalesce(p.n, 0) AS n,"                           \
  "  coalesce(p.last_version, m.v0) AS last_version, p.unlinked, p.unhashed,"                            \
  "  (m.version = 0 AND m.last_hash = '\\x'::bytea) OR m.last_hash ="                                    \
  "   (SELECT hash FROM ledger_entries WHERE wallet_id = m.id AND version = m.version) AS head_ok"         \
  " FROM moved m LEFT JOIN per_wallet p ON p.wallet_id = m.id) "                                         \
  "SELECT 'wallet', c.id, c.user_id, c.asset, c.balance::text, (c.b0 + c.moved_sum)::text,"              \
  " c.version, c.last_version, c.n, c.unlinked, c.unhashed, coalesce(c.head_ok, false), c.v0 "            \
  "FROM checked c WHERE c.balance <> c.b0 + c.moved_sum OR c.version <> c.last_version"                  \
  " OR c.n <> c.version - c.v0 OR c.unlinked IS NOT NULL OR c.unhashed IS NOT NULL"                       \
  " OR NOT coalesce(c.head_ok, false) "                                                                  \
  "UNION ALL "                                                                                           \
  "SELECT 'asset', NULL, NULL, c.asset, NULL, sum(c.moved_sum)::text, count(*), NULL, sum(c.n), NULL,"    \
  " NULL, NULL, NULL FROM checked c GROUP BY c.asset"

const Statement kStatements[] = {
    {"asset_scale", "SELECT scale FROM assets WHERE code = $1"},
    {"ping", "SELECT 1"},
    {"stuck_count",
     "SELECT count(*) FROM transactions t WHERE t.status = 'pending' AND (t.expires_at <= now()"
     " OR t.next_attempt_at <= now() OR t.created_at <= now() - $1::bigint * interval '1 millisecond')"},
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
     "SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_move($1, $2, $3, $4, $5, $6, $7, $8, $9, "
     "$10::bigint * interval '1 millisecond', $11, $12::jsonb, $13, NULL, "
     "$14::bigint * interval '1 millisecond')"},
    {"transaction",
     "WITH m AS (SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_movement_of($1, false) "
     "WHERE transaction_id IS NOT NULL) "
     "SELECT m.*, wallet_rfc3339(t.updated_at), t.attempts, wallet_rfc3339(t.next_attempt_at), "
     "t.last_error, t.reverses_id, t.settle FROM m JOIN transactions t ON t.id = m.transaction_id"},
    {"post", "SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_post($1, $2, $3, $4::jsonb)"},
    {"void", "SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_void($1, $2, $3, $4::jsonb)"},
    {"reverse", "SELECT " WALLET_MOVEMENT_COLUMNS " FROM wallet_reverse($1, $2, $3, $4::jsonb)"},
    {"settlement_deferred",
     "SELECT " WALLET_MOVEMENT_COLUMNS
     " FROM wallet_settlement_deferred($1, $2, $3::bigint * interval '1 millisecond', $4)"},
    {"settlement_attempted", "SELECT wallet_settlement_attempted($1)"},
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
    // O(history) or O(table).
    {"history",
     "WITH w AS MATERIALIZED (SELECT id FROM wallets WHERE user_id = $1 AND ($2::text IS NULL OR asset = $2)), "
     "ids AS ("
     " SELECT d.id FROM w CROSS JOIN LATERAL (SELECT t.id FROM transactions t WHERE t.debit_wallet_id = w.id"
     "  AND ($8::bigint IS NULL OR t.id < $8) AND ($3::text IS NULL OR t.kind = $3)"
     "  AND ($4::text IS NULL OR t.status = $4) AND ($5::timestamptz IS NULL OR t.created_at >= $5)"
     "  AND ($6::timestamptz IS NULL OR t.created_at < $6) ORDER BY t.id DESC LIMIT $7) d"
     " UNION "
     " SELECT c.id FROM w CROSS JOIN LATERAL (SELECT t.id FROM transactions t WHERE t.credit_wallet_id = w.id"
     "  AND ($8::bigint IS NULL OR t.id < $8) AND ($3::text IS NULL OR t.kind = $3)"
     "  AND ($4::text IS NULL OR t.status = $4) AND ($5::timestamptz IS NULL OR t.created_at >= $5)"
     "  AND ($6::timestamptz IS NULL OR t.created_at < $6) ORDER BY t.id DESC LIMIT $7) c) "
     "SELECT t.id, t.kind, t.status, t.asset, a.scale, "
     " coalesce(e.amount, CASE WHEN dw.user_id = $1 THEN -t.amount ELSE t.amount END), "
     " e.balance_after, CASE WHEN dw.user_id = $1 THEN cw.user_id ELSE dw.user_id END, "
     " wallet_rfc3339(t.created_at), t.memo "
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
     "$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11, $12)"},
    // ---- reconciliation (store_reconcile.cpp) ----
    {"reconcile_lock", "SELECT pg_advisory_xact_lock(727411002)"},
    // A hot standby (read-only; reconcile then leaves the checkpoint alone).
    {"in_recovery", "SELECT pg_is_in_recovery()"},
    // Reconcile's statements are big but cheap per row: JIT compilation
    // would cost more (about a second each) than it saves.
    {"reconcile_no_jit", "SET LOCAL jit = off"},
    {"reconcile_bounds", "SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM wallets"},
    // Verifies the entries of wallets [$1, $2) that moved since the
    // checkpoint (all of them when $3, a full run): each entry continues the
    // previous one (version, balance before/after) and its hash chains to
    // the previous hash; the stored balance, version and last hash equal the
    // chain's end. Returns the wallets that fail, then one row per asset
    // with the sum and count of the entries verified.
    // Verifies the entries of wallets [$1, $2): each entry continues the
    // previous one (version, balance before/after) and its hash chains to
    // the previous hash; the stored balance, version and last hash equal the
    // chain's end. Returns the wallets that fail, then one row per asset
    // with the sum and count of the entries verified. The full run walks
    // every entry in (wallet, version) order; the incremental run looks only
    // at wallets that changed since the checkpoint, and at their new entries.
    {"reconcile_chunk_full",
     "WITH moved AS MATERIALIZED ("
     " SELECT w.id, w.user_id, w.asset, w.balance, w.version, w.last_hash, 0::bigint AS v0, 0::bigint AS b0,"
     "  '\\x'::bytea AS h0 FROM wallets w WHERE w.id >= $1 AND w.id < $2), "
     "per_wallet AS ("
     " SELECT wallet_id, sum(amount) AS moved_sum, count(*) AS n, max(version) AS last_version,"
     "  min(version) FILTER (WHERE NOT linked) AS unlinked, min(version) FILTER (WHERE NOT hashed) AS unhashed"
     " FROM (SELECT e.wallet_id, e.amount, e.version,"
     "   (e.version = lag(e.version, 1, 0::bigint) OVER w + 1"
     "    AND e.balance_before = lag(e.balance_after, 1, 0::bigint) OVER w"
     "    AND e.balance_after = e.balance_before + e.amount) AS linked,"
     "   e.hash = wallet_entry_hash(lag(e.hash, 1, '\\x'::bytea) OVER w, e.wallet_id, e.version,"
     "    e.transaction_id, e.amount, e.balance_before, e.balance_after) AS hashed"
     "  FROM ledger_entries e WHERE e.wallet_id >= $1 AND e.wallet_id < $2"
     "  WINDOW w AS (PARTITION BY e.wallet_id ORDER BY e.version)) c"
     " GROUP BY wallet_id), "
     WALLET_RECONCILE_RESULT},
    {"reconcile_chunk_incremental",
     "WITH moved AS MATERIALIZED ("
     " SELECT w.id, w.user_id, w.asset, w.balance, w.version, w.last_hash, coalesce(r.version, 0) AS v0,"
     "  coalesce(r.balance, 0) AS b0, coalesce(r.hash, '\\x'::bytea) AS h0"
     " FROM wallets w LEFT JOIN reconcile_wallets r ON r.wallet_id = w.id"
     " WHERE w.id >= $1 AND w.id < $2 AND (r.wallet_id IS NULL OR w.version <> r.version"
     "  OR w.balance <> r.balance OR w.last_hash <> r.hash)), "
     "per_wallet AS ("
     " SELECT m.id AS wallet_id, x.* FROM moved m CROSS JOIN LATERAL ("
     "  SELECT sum(amount) AS moved_sum, count(*) AS n, max(version) AS last_version,"
     "   min(version) FILTER (WHERE NOT linked) AS unlinked, min(version) FILTER (WHERE NOT hashed) AS unhashed"
     "  FROM (SELECT e.amount, e.version,"
     "    (e.version = lag(e.version, 1, m.v0) OVER w + 1"
     "     AND e.balance_before = lag(e.balance_after, 1, m.b0) OVER w"
     "     AND e.balance_after = e.balance_before + e.amount) AS linked,"
     "    e.hash = wallet_entry_hash(lag(e.hash, 1, m.h0) OVER w, e.wallet_id, e.version,"
     "     e.transaction_id, e.amount, e.balance_before, e.balance_after) AS hashed"
     "   FROM ledger_entries e WHERE e.wallet_id = m.id AND e.version > m.v0"
     "   WINDOW w AS (ORDER BY e.version)) c) x), "
     WALLET_RECONCILE_RESULT},
    // The transactions of the entries verified incrementally in [$1, $2):
    // each must be posted with exactly two entries, -posted on its debit
    // wallet and +posted on its credit wallet. Problems first, then a row
    // with id NULL whose n is the number checked.
    {"reconcile_transactions",
     "WITH fresh AS MATERIALIZED ("
     " SELECT DISTINCT x.transaction_id AS id FROM wallets w"
     " LEFT JOIN reconcile_wallets r ON r.wallet_id = w.id"
     " CROSS JOIN LATERAL (SELECT e.transaction_id FROM ledger_entries e"
     "  WHERE e.wallet_id = w.id AND e.version > coalesce(r.version, 0)) x"
     " WHERE w.id >= $1 AND w.id < $2 AND (r.wallet_id IS NULL OR w.version <> r.version)), "
     "checked AS ("
     " SELECT t.id, t.asset, t.status, count(e.id) AS n, coalesce(sum(e.amount), 0) AS total,"
     "  count(e.id) FILTER (WHERE (e.wallet_id = t.debit_wallet_id AND e.amount = -t.posted_amount)"
     "   OR (e.wallet_id = t.credit_wallet_id AND e.amount = t.posted_amount)) AS matching"
     " FROM fresh f JOIN transactions t ON t.id = f.id LEFT JOIN ledger_entries e ON e.transaction_id = t.id"
     " GROUP BY t.id, t.asset, t.status) "
     "SELECT id, asset, status, n, total::text, matching FROM checked"
     " WHERE status <> 'posted' OR n <> 2 OR total <> 0 OR matching <> 2 "
     // Counted in the chunk of the debit wallet, so a transaction between
     // two chunks is counted once (it is checked in both).
     "UNION ALL SELECT NULL, NULL, NULL, (SELECT count(*) FROM fresh f JOIN transactions t ON t.id = f.id"
     " WHERE t.debit_wallet_id >= $1 AND t.debit_wallet_id < $2), NULL, NULL"},
    // Full run: every wallet's balance and version against its posted
    // transactions (so every posted transaction has its entries, and no
    // other transaction has any). Problems first, then the number of posted
    // transactions (id NULL).
    {"reconcile_transactions_full",
     "WITH moves AS ("
     " SELECT debit_wallet_id AS wallet_id, -posted_amount AS amount FROM transactions WHERE status = 'posted'"
     " UNION ALL SELECT credit_wallet_id, posted_amount FROM transactions WHERE status = 'posted'), "
     "per_wallet AS (SELECT wallet_id, sum(amount) AS total, count(*) AS n FROM moves GROUP BY wallet_id) "
     "SELECT w.id, w.user_id, w.asset, w.balance::text, coalesce(p.total, 0)::text, w.version, coalesce(p.n, 0) "
     "FROM wallets w LEFT JOIN per_wallet p ON p.wallet_id = w.id "
     "WHERE w.balance <> coalesce(p.total, 0) OR w.version <> coalesce(p.n, 0) "
     "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, (SELECT count(*) FROM transactions WHERE status = 'posted')"},
    // Full run: rows whose references lead nowhere. There are no foreign
    // keys on the ledger's hot tables (0006_hot_path.sql): only the entry
    // points write them, with ids of rows they hold locked, and nothing is
    // ever deleted; this finds what a bug or a hand-made row could leave.
    // Columns: wallet id, transaction id, asset, amount, detail.
    {"reconcile_orphans",
     "(SELECT e.wallet_id, e.transaction_id, NULL::text, e.amount::text,"
     "  'ledger entry ' || e.id || ' is on wallet ' || e.wallet_id || ', which does not exist'"
     " FROM ledger_entries e LEFT JOIN wallets w ON w.id = e.wallet_id WHERE w.id IS NULL LIMIT 100) "
     // (The missing transaction ids first, from the two indexes alone.)
     "UNION ALL (SELECT e.wallet_id, e.transaction_id, w.asset, e.amount::text,"
     "  'ledger entry ' || e.id || ' belongs to transaction ' || e.transaction_id || ', which does not exist'"
     " FROM (SELECT DISTINCT x.transaction_id FROM ledger_entries x"
     "  WHERE NOT EXISTS (SELECT FROM transactions t WHERE t.id = x.transaction_id) LIMIT 100) m"
     " JOIN ledger_entries e ON e.transaction_id = m.transaction_id JOIN wallets w ON w.id = e.wallet_id"
     " LIMIT 100) "
     "UNION ALL (SELECT NULL, t.id, t.asset, t.amount::text,"
     "  'transaction ' || t.id || ' refers to ' || concat_ws(', ',"
     "   CASE WHEN d.id IS NULL THEN 'debit wallet ' || t.debit_wallet_id END,"
     "   CASE WHEN c.id IS NULL THEN 'credit wallet ' || t.credit_wallet_id END,"
     "   CASE WHEN a.code IS NULL THEN 'asset ' || t.asset END) || ', which does not exist'"
     " FROM transactions t LEFT JOIN wallets d ON d.id = t.debit_wallet_id"
     " LEFT JOIN wallets c ON c.id = t.credit_wallet_id LEFT JOIN assets a ON a.code = t.asset"
     " WHERE d.id IS NULL OR c.id IS NULL OR a.code IS NULL LIMIT 100) "
     "UNION ALL (SELECT NULL, t.id, t.asset, t.amount::text,"
     "  'transaction ' || t.id || ' reverses transaction ' || t.reverses_id || ', which does not exist'"
     " FROM transactions t WHERE t.reverses_id IS NOT NULL"
     " AND NOT EXISTS (SELECT FROM transactions r WHERE r.id = t.reverses_id) LIMIT 100)"},
    {"reconcile_reserved",
     "WITH p AS (SELECT debit_wallet_id AS wallet_id, sum(amount) AS total FROM transactions"
     " WHERE status = 'pending' GROUP BY 1) "
     "SELECT w.id, w.user_id, w.asset, w.reserved::text, coalesce(p.total, 0)::text "
     "FROM wallets w LEFT JOIN p ON p.wallet_id = w.id WHERE w.reserved <> coalesce(p.total, 0)"},
    {"reconcile_assets",
     "SELECT a.code, a.scale, coalesce(r.entry_sum, 0)::text FROM assets a "
     "LEFT JOIN reconcile_assets r ON r.asset = a.code ORDER BY a.code"},
    // The checkpoint, written by the owner's functions (0005_roles.sql).
    {"reconcile_save_wallets", "SELECT wallet_reconcile_save_wallets()"},
    {"reconcile_save_asset", "SELECT wallet_reconcile_save_asset($1, $2::numeric)"},
    {"reconcile_record", "SELECT wallet_reconcile_record($1, $2, $3, $4)"},
    {"stuck",
     "SELECT t.id, t.kind, t.asset, extract(epoch FROM now() - t.created_at)::bigint, t.attempts, t.last_error,"
     " CASE WHEN t.expires_at <= now() THEN 'hold expired at ' || wallet_rfc3339(t.expires_at)"
     "  WHEN t.next_attempt_at <= now() THEN 'settlement attempt due since ' || wallet_rfc3339(t.next_attempt_at)"
     "  ELSE 'pending since ' || wallet_rfc3339(t.created_at) END "
     "FROM transactions t WHERE t.status = 'pending' AND (t.expires_at <= now() OR t.next_attempt_at <= now()"
     " OR t.created_at <= now() - $1::bigint * interval '1 millisecond') ORDER BY t.id LIMIT 1000"},
    // ---- statement matching (reconcile/statement_match.cpp; rules in 0010_statements.sql) ----
    {"statement_run",
     "SELECT wallet_statement_run($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8, "
     "$9::bigint * interval '1 millisecond', $10, $11::jsonb)"},
    {"statement_run_header",
     "SELECT r.id, r.file_id, r.file_new, wallet_rfc3339(r.at), r.actor, f.account, f.asset, a.scale, f.name, "
     " f.format, f.lines, wallet_rfc3339(r.since), wallet_rfc3339(r.until), r.amount_tolerance, "
     " (extract(epoch FROM r.date_window) * 1000)::bigint "
     "FROM statement_runs r JOIN statement_files f ON f.id = r.file_id JOIN assets a ON a.code = f.asset "
     "WHERE r.id = $1"},
    // The groups a run reports: those of its file's lines matched by it or
    // earlier runs, and those it matched with earlier files' lines.
    {"statement_run_matches",
     "WITH g AS MATERIALIZED (SELECT match_id FROM statement_lines WHERE file_id = $2 AND match_id IS NOT NULL"
     " UNION SELECT match_id FROM statement_matched_transactions WHERE run_id = $1), "
     "tx AS (SELECT t.match_id, min(t.rule) AS rule, min(t.run_id) AS run_id,"
     " array_agg(t.transaction_id ORDER BY t.transaction_id) AS ids"
     " FROM statement_matched_transactions t JOIN g ON g.match_id = t.match_id GROUP BY t.match_id), "
     "ln AS (SELECT l.match_id, min(l.file_id) AS file_id, array_agg(l.line ORDER BY l.line) AS lines"
     " FROM statement_lines l JOIN g ON g.match_id = l.match_id GROUP BY l.match_id) "
     "SELECT tx.rule, tx.run_id, array_to_string(tx.ids, ' '), ln.file_id, array_to_string(ln.lines, ' ') "
     "FROM tx JOIN ln ON ln.match_id = tx.match_id WHERE tx.run_id <= $1 "
     "ORDER BY ln.file_id <> $2, ln.file_id, ln.lines[1]"},
    {"statement_run_findings",
     "SELECT f.kind, f.file_id, f.line, f.transaction_id, f.field, f.ledger, f.statement, f.reason, l.reference, "
     " l.amount, wallet_rfc3339(l.booked_at), l.whole_day, l.description "
     "FROM statement_run_findings f LEFT JOIN statement_lines l ON l.file_id = f.file_id AND l.line = f.line "
     "WHERE f.run_id = $1 ORDER BY f.kind, f.file_id, f.line, f.transaction_id"},
    {"statement_runs",
     "SELECT r.id, wallet_rfc3339(r.at), r.actor, f.account, f.asset, f.name, f.format, f.lines, r.file_new, "
     " wallet_rfc3339(r.since), wallet_rfc3339(r.until), r.matched_groups, r.unmatched_lines, "
     " r.unmatched_transactions, r.mismatched "
     "FROM statement_runs r JOIN statement_files f ON f.id = r.file_id "
     "WHERE ($1::text IS NULL OR f.account = $1) AND ($2::text IS NULL OR f.asset = $2) "
     "ORDER BY r.id DESC LIMIT $3"},
    // ---- balances at a point in time, account statements (reconcile/point_in_time.cpp) ----
    // The balance of each of a user's wallets (system accounts: summed over
    // shards) at $3: the sum of its ledger entries made at or before $3.
    // Reserved at $3: the holds created at or before $3 that were still
    // pending then -- not yet posted (their entries' time) nor voided (the
    // void is their last update).
    {"balances_at",
     "SELECT w.user_id, w.asset, a.scale,"
     " coalesce(sum((SELECT sum(e.amount) FROM ledger_entries e"
     "  WHERE e.wallet_id = w.id AND e.created_at <= $3::timestamptz)), 0)::bigint,"
     " coalesce(sum((SELECT sum(t.amount) FROM transactions t WHERE t.debit_wallet_id = w.id"
     "  AND t.created_at <= $3::timestamptz AND (t.status = 'pending'"
     "   OR (t.status = 'voided' AND t.updated_at > $3::timestamptz)"
     "   OR (t.status = 'posted' AND (SELECT min(e.created_at) FROM ledger_entries e"
     "        WHERE e.transaction_id = t.id) > $3::timestamptz)))), 0)::bigint "
     "FROM wallets w JOIN assets a ON a.code = w.asset "
     "WHERE w.user_id = $1 AND ($2::text IS NULL OR w.asset = $2) AND w.created_at <= $3::timestamptz "
     "GROUP BY w.user_id, w.asset, a.scale ORDER BY w.asset"},
    // One wallet's (or system account's) entries in [$3, $4), in time
    // order, after the opening balance (entries before $3; row with NULL
    // transaction) and before the closing one (entries before $4; last row).
    {"account_statement",
     "WITH w AS MATERIALIZED (SELECT id FROM wallets WHERE user_id = $1 AND asset = $2) "
     "SELECT * FROM ("
     " SELECT NULL::bigint, NULL::text, NULL::text, coalesce(sum(e.amount), 0)::bigint, NULL::text, NULL::text,"
     "  0 AS section, NULL::timestamptz AS at, NULL::bigint AS entry_id"
     " FROM ledger_entries e WHERE e.wallet_id IN (SELECT id FROM w) AND e.created_at < $3::timestamptz"
     " UNION ALL SELECT e.transaction_id, t.kind, CASE WHEN e.amount < 0 THEN cw.user_id ELSE dw.user_id END,"
     "  e.amount, wallet_rfc3339(e.created_at), t.memo, 1, e.created_at, e.id"
     " FROM ledger_entries e JOIN transactions t ON t.id = e.transaction_id"
     " JOIN wallets dw ON dw.id = t.debit_wallet_id JOIN wallets cw ON cw.id = t.credit_wallet_id"
     " WHERE e.wallet_id IN (SELECT id FROM w) AND e.created_at >= $3::timestamptz AND e.created_at < $4::timestamptz"
     " UNION ALL SELECT NULL, NULL, NULL, coalesce(sum(e.amount), 0)::bigint, NULL, NULL, 2, NULL, NULL"
     " FROM ledger_entries e WHERE e.wallet_id IN (SELECT id FROM w) AND e.created_at < $4::timestamptz) x "
     "ORDER BY section, at, entry_id"},
};
const std::size_t kStatementCount = sizeof kStatements / sizeof kStatements[0];

#undef WALLET_MOVEMENT_COLUMNS
#undef WALLET_RECONCILE_RESULT

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
// The caller's staging table of `reconcile statement`: filled by COPY, read
// by wallet_statement_run (which runs as wallet_owner, hence the grant),
// gone at the end of the transaction. DDL cannot be prepared: plain text.
const std::string_view kStatementUploadCreate =
    "CREATE TEMP TABLE statement_upload (line integer, booked_at timestamptz, whole_day boolean, amount bigint,"
    " reference text, description text, currency text) ON COMMIT DROP";
const std::string_view kStatementUploadGrant = "GRANT SELECT ON pg_temp.statement_upload TO wallet_owner";
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
