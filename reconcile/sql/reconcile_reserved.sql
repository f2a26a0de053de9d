-- Wallets whose stored reserved amount differs from the sum of their pending holds.
WITH p AS (SELECT debit_wallet_id AS wallet_id, sum(amount) AS total FROM transactions
            WHERE status = 'pending' GROUP BY 1)
SELECT w.id AS wallet_id, w.user_id, w.asset, w.reserved::text AS stored, coalesce(p.total, 0)::text AS computed
  FROM wallets w LEFT JOIN p ON p.wallet_id = w.id WHERE w.reserved <> coalesce(p.total, 0)
