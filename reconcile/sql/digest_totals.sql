-- Per asset: entries up to the heads, and the balances after the heads of
-- user wallets and of system accounts (exact numeric text).
SELECT w.asset, coalesce(sum(h.version), 0)::bigint,
       coalesce(sum(h.balance_after) FILTER (WHERE NOT w.is_system), 0)::text,
       coalesce(sum(h.balance_after) FILTER (WHERE w.is_system), 0)::text
  FROM wallets w
  LEFT JOIN LATERAL (SELECT e.version, e.balance_after FROM ledger_entries e WHERE e.wallet_id = w.id
                      ORDER BY e.version DESC LIMIT 1) h ON true
 GROUP BY w.asset ORDER BY w.asset
