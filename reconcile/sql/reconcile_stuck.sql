-- Pending transactions that are stuck: a hold past its expiry, a settlement
-- attempt overdue, or pending for longer than $1 milliseconds. At most 1000.
SELECT t.id AS transaction_id, t.kind, t.asset, extract(epoch FROM now() - t.created_at)::bigint AS age_seconds,
       t.attempts, t.last_error,
       CASE WHEN t.expires_at <= now() THEN 'hold expired at ' || wallet_rfc3339(t.expires_at)
            WHEN t.next_attempt_at <= now() THEN 'settlement attempt due since ' || wallet_rfc3339(t.next_attempt_at)
            ELSE 'pending since ' || wallet_rfc3339(t.created_at) END AS reason
  FROM transactions t
 WHERE t.status = 'pending' AND (t.expires_at <= now() OR t.next_attempt_at <= now()
       OR t.created_at <= now() - $1::bigint * interval '1 millisecond')
 ORDER BY t.id LIMIT 1000
