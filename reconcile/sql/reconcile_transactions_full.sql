-- Full run: every wallet's balance and version against its posted
-- transactions (so every posted transaction has its entries, and no other
-- transaction has any). Problems first, then one row with wallet_id NULL
-- whose `transactions` is the number of posted transactions in all.
WITH moves AS (
  SELECT debit_wallet_id AS wallet_id, -posted_amount AS amount FROM transactions WHERE status = 'posted'
  UNION ALL SELECT credit_wallet_id, posted_amount FROM transactions WHERE status = 'posted'),
per_wallet AS (SELECT wallet_id, sum(amount) AS total, count(*) AS n FROM moves GROUP BY wallet_id)
SELECT w.id AS wallet_id, w.user_id, w.asset, w.balance::text AS stored, coalesce(p.total, 0)::text AS computed,
       w.version, coalesce(p.n, 0) AS transactions
  FROM wallets w LEFT JOIN per_wallet p ON p.wallet_id = w.id
 WHERE w.balance <> coalesce(p.total, 0) OR w.version <> coalesce(p.n, 0)
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, (SELECT count(*) FROM transactions WHERE status = 'posted')
