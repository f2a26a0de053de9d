-- walletctl digest verify: entries of wallets in [$4, $5) beyond their
-- anchored version (0 for a wallet the anchor does not hold) whose id is at
-- most the anchor's highest entry id $6: written into the anchored past, or
-- by a transaction that was still running when the digest was taken. The
-- inserting transaction id (xmin, 32 bits) tells which. Columns: entry id,
-- wallet id, user, asset, version, transaction id, xmin.
WITH
\ir fragments/digest_anchored.sql
SELECT e.id, w.id, w.user_id, w.asset, e.version, e.transaction_id, e.xmin::text::bigint
  FROM wallets w
  LEFT JOIN anchored a ON a.wallet_id = w.id
  JOIN ledger_entries e ON e.wallet_id = w.id AND e.version > coalesce(a.version, 0)
 WHERE w.id >= $4 AND w.id < $5 AND e.id <= $6
 ORDER BY e.id LIMIT 1000
