-- The balance of each of a user's wallets (system accounts: summed over
-- shards) at $3: the sum of its ledger entries made at or before $3.
-- Reserved at $3: the holds created at or before $3 that were still pending
-- then -- not yet posted (their entries' time) nor voided (the void is their
-- last update).
SELECT w.user_id, w.asset, a.scale, coalesce(sum((SELECT sum(e.amount) FROM ledger_entries e  WHERE e.wallet_id = w.id AND e.created_at <= $3::timestamptz)), 0)::bigint, coalesce(sum((SELECT sum(t.amount) FROM transactions t WHERE t.debit_wallet_id = w.id  AND t.created_at <= $3::timestamptz AND (t.status = 'pending'   OR (t.status = 'voided' AND t.updated_at > $3::timestamptz)   OR (t.status = 'posted' AND (SELECT min(e.created_at) FROM ledger_entries e        WHERE e.transaction_id = t.id) > $3::timestamptz)))), 0)::bigint FROM wallets w JOIN assets a ON a.code = w.asset WHERE w.user_id = $1 AND ($2::text IS NULL OR w.asset = $2) AND w.created_at <= $3::timestamptz GROUP BY w.user_id, w.asset, a.scale ORDER BY w.asset
