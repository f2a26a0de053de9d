-- The range of wallet ids that reconcile walks in chunks, and how many wallets there are.
SELECT coalesce(min(id), 0) AS low, coalesce(max(id), 0) AS high, count(*) AS wallets FROM wallets
