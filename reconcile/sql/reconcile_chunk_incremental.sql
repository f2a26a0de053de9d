-- As reconcile_chunk_full.sql, for the incremental run: it looks only at
-- the wallets of [$1, $2) that changed since the checkpoint
-- (reconcile_wallets) or that have an entry above the high-water mark $3
-- (written since the last clean run, whether or not the wallet's row
-- changed with it), and at their entries beyond the checkpoint, starting
-- from the checkpoint's version, balance and hash.
WITH moved AS MATERIALIZED (
  SELECT w.id, w.user_id, w.asset, w.balance, w.version, w.last_hash, coalesce(r.version, 0) AS v0,
         coalesce(r.balance, 0) AS b0, coalesce(r.hash, '\x'::bytea) AS h0
    FROM wallets w LEFT JOIN reconcile_wallets r ON r.wallet_id = w.id
   WHERE w.id >= $1 AND w.id < $2 AND (r.wallet_id IS NULL OR w.version <> r.version
         OR w.balance <> r.balance OR w.last_hash <> r.hash
         OR w.id IN (SELECT n.wallet_id FROM ledger_entries n
                      WHERE n.id > $3 AND n.wallet_id >= $1 AND n.wallet_id < $2))),
per_wallet AS (
  SELECT m.id AS wallet_id, x.* FROM moved m CROSS JOIN LATERAL (
    SELECT sum(amount) AS moved_sum, count(*) AS n, max(version) AS last_version,
           min(version) FILTER (WHERE NOT linked) AS unlinked, min(version) FILTER (WHERE NOT hashed) AS unhashed
      FROM (SELECT e.amount, e.version,
                   (e.version = lag(e.version, 1, m.v0) OVER w + 1
                    AND e.balance_before = lag(e.balance_after, 1, m.b0) OVER w
                    AND e.balance_after = e.balance_before + e.amount) AS linked,
                   e.hash IS NOT DISTINCT FROM wallet_entry_expected_hash(lag(e.hash, 1, m.h0) OVER w, e, t) AS hashed
              FROM ledger_entries e LEFT JOIN transactions t ON t.id = e.transaction_id
             WHERE e.wallet_id = m.id AND e.version > m.v0
            WINDOW w AS (ORDER BY e.version)) c) x),
\ir fragments/chunk_result.sql
