-- The transactions of the entries verified incrementally in [$1, $2): each
-- must be posted with exactly two entries, -posted on its debit wallet and
-- +posted on its credit wallet. Problems first, then one row with
-- transaction_id NULL whose `checked` is the number of transactions checked.
WITH fresh AS MATERIALIZED (
  SELECT DISTINCT x.transaction_id AS id FROM wallets w
    LEFT JOIN reconcile_wallets r ON r.wallet_id = w.id
   CROSS JOIN LATERAL (SELECT e.transaction_id FROM ledger_entries e
                        WHERE e.wallet_id = w.id AND e.version > coalesce(r.version, 0)) x
   WHERE w.id >= $1 AND w.id < $2 AND (r.wallet_id IS NULL OR w.version <> r.version)),
checked AS (
  SELECT t.id, t.asset, t.status, count(e.id) AS n, coalesce(sum(e.amount), 0) AS total,
         count(e.id) FILTER (WHERE (e.wallet_id = t.debit_wallet_id AND e.amount = -t.posted_amount)
                              OR (e.wallet_id = t.credit_wallet_id AND e.amount = t.posted_amount)) AS matching
    FROM fresh f JOIN transactions t ON t.id = f.id LEFT JOIN ledger_entries e ON e.transaction_id = t.id
   GROUP BY t.id, t.asset, t.status)
SELECT id AS transaction_id, asset, status, n AS entries, total::text AS total, matching, NULL::bigint AS checked
  FROM checked
 WHERE status <> 'posted' OR n <> 2 OR total <> 0 OR matching <> 2
UNION ALL
-- Counted in the chunk of the debit wallet, so a transaction between two
-- chunks is counted once (it is checked in both).
SELECT NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT count(*) FROM fresh f JOIN transactions t ON t.id = f.id
         WHERE t.debit_wallet_id >= $1 AND t.debit_wallet_id < $2)
