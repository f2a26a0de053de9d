-- walletctl digest verify: per asset over all the anchored heads $1, $2,
-- $3: entries up to the anchored versions, and the balances after them of
-- user wallets and of system accounts (exact numeric text).
WITH
\ir fragments/digest_anchored.sql
SELECT w.asset,
       coalesce(sum((SELECT count(*) FROM ledger_entries c
                      WHERE c.wallet_id = a.wallet_id AND c.version <= a.version)), 0)::bigint,
       coalesce(sum(coalesce(e.balance_after, 0)) FILTER (WHERE NOT w.is_system), 0)::text,
       coalesce(sum(coalesce(e.balance_after, 0)) FILTER (WHERE w.is_system), 0)::text
  FROM anchored a
  JOIN wallets w ON w.id = a.wallet_id
  LEFT JOIN ledger_entries e ON e.wallet_id = a.wallet_id AND e.version = a.version
 GROUP BY w.asset
