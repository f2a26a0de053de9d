-- How many transactions reconcile_stuck.sql would list, without its limit.
SELECT count(*) AS stuck FROM transactions t
 WHERE t.status = 'pending' AND (t.expires_at <= now() OR t.next_attempt_at <= now()
       OR t.created_at <= now() - $1::bigint * interval '1 millisecond')
