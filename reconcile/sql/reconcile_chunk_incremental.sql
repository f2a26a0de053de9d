-- As reconcile_chunk_full.sql, for the incremental run: it looks only at
-- the wallets of [$1, $2) that changed since the checkpoint
-- (reconcile_wallets), and at their new entries, starting from the
-- checkpoint's version, balance and hash.
WITH moved AS MATERIALIZED (
  SELECT w.id, w.user_id, w.asset, w.balance, w.version, w.last_hash, coalesce(r.version, 0) AS v0,
         coalesce(r.balance, 0) AS b0, coalesce(r.hash, '\x'::bytea) AS h0
    FROM wallets w LEFT JOIN reconcile_wallets r ON r.wallet_id = w.id
   WHERE w.id >= $1 AND w.id < $2 AND (r.wallet_id IS NULL OR w.version <> r.version
         OR w.balance <> r.balance OR w.last_hash <> r.hash)),
per_wallet AS (
  SELECT m.id AS wallet_id, x.* FROM moved m CROSS JOIN LATERAL (
    SELECT sum(amount) AS moved_sum, count(*) AS n, max(version) AS last_version,
           min(version) FILTER (WHERE NOT linked) AS unlinked, min(version) FILTER (WHERE NOT hashed) AS unhashed
      FROM (SELECT e.amount, e.version,
                   (e.version = lag(e.version, 1, m.v0) OVER w + 1
                    AND e.balance_before = lag(e.balance_after, 1, m.b0) OVER w
                    AND e.balance_after = e.balance_before + e.amount) AS linked,
                   e.hash = wallet_entry_hash(lag(e.hash, 1, m.h0) OVER w, e.wallet_id, e.version,
                                              e.transaction_id, e.amount, e.balance_before, e.balance_after) AS hashed
              FROM ledger_entries e WHERE e.wallet_id = m.id AND e.version > m.v0
            WINDOW w AS (ORDER BY e.version)) c) x),
\ir fragments/chunk_result.sql
