-- The transactions of the entries verified incrementally in [$1, $2): the
-- new entries of the wallets that changed since the checkpoint, and every
-- entry of the chunk's wallets above the high-water mark $3. Each must
-- exist and be posted with exactly two entries, -posted on its debit
-- wallet and +posted on its credit wallet. Problems first (status NULL: the
-- transaction does not exist; its asset is then its entries'), then one
-- row with transaction_id NULL whose `checked` is the number of
-- transactions checked.
WITH fresh AS MATERIALIZED (
  SELECT x.transaction_id AS id FROM wallets w
    LEFT JOIN reconcile_wallets r ON r.wallet_id = w.id
   CROSS JOIN LATERAL (SELECT e.transaction_id FROM ledger_entries e
                        WHERE e.wallet_id = w.id AND e.version > coalesce(r.version, 0)) x
   WHERE w.id >= $1 AND w.id < $2 AND (r.wallet_id IS NULL OR w.version <> r.version)
  UNION
  SELECT e.transaction_id FROM ledger_entries e WHERE e.id > $3 AND e.wallet_id >= $1 AND e.wallet_id < $2),
checked AS (
  SELECT f.id, coalesce(t.asset, min(ew.asset)) AS asset, t.status, count(e.id) AS n,
         coalesce(sum(e.amount), 0) AS total,
         count(e.id) FILTER (WHERE (e.wallet_id = t.debit_wallet_id AND e.amount = -t.posted_amount)
                              OR (e.wallet_id = t.credit_wallet_id AND e.amount = t.posted_amount)) AS matching
    FROM fresh f LEFT JOIN transactions t ON t.id = f.id
    LEFT JOIN ledger_entries e ON e.transaction_id = f.id LEFT JOIN wallets ew ON ew.id = e.wallet_id
   GROUP BY f.id, t.asset, t.status)
SELECT id AS transaction_id, asset, status, n AS entries, total::text AS total, matching, NULL::bigint AS checked
  FROM checked
 WHERE status IS NULL OR status <> 'posted' OR n <> 2 OR total <> 0 OR matching <> 2
UNION ALL
-- Counted in the chunk of the debit wallet, so a transaction between two
-- chunks is counted once (it is checked in both).
SELECT NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT count(*) FROM fresh f JOIN transactions t ON t.id = f.id
         WHERE t.debit_wallet_id >= $1 AND t.debit_wallet_id < $2)
