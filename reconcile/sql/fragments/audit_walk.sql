-- The audit chain walk shared by reconcile_audit and digest_verify_audit,
-- after a CTE `upto` (stripe, seq): each stripe's rows up to that seq, in
-- seq order, each checked against its predecessor (seq one more, hash
-- recomputed from the stored predecessor's hash and the row's fields), so
-- that the first row that fails is the one changed, or the first after
-- rows removed. `walk` has a row per audit row, `first_bad` the first
-- failing row of each stripe, `per_stripe` each stripe's count and last
-- seq.
walk AS (
  SELECT a.id, a.stripe, a.seq, lag(a.seq, 1, 0::bigint) OVER w AS prev_seq,
         a.seq = lag(a.seq, 1, 0::bigint) OVER w + 1 AS linked,
         a.hash IS NOT DISTINCT FROM wallet_audit_expected_hash(lag(a.hash, 1, '\x'::bytea) OVER w, a) AS hashed
    FROM upto u JOIN audit_log a ON a.stripe = u.stripe AND a.seq <= u.seq
  WINDOW w AS (PARTITION BY a.stripe ORDER BY a.seq, a.id)),
first_bad AS (
  SELECT DISTINCT ON (stripe) stripe, seq, id, prev_seq, linked
    FROM walk WHERE NOT (linked AND hashed) ORDER BY stripe, seq, id),
per_stripe AS (
  SELECT stripe, count(*) AS n, max(seq) AS last_seq FROM walk GROUP BY stripe),
-- The first failing row's finding, worded once for both statements.
bad_detail AS (
  SELECT stripe, seq, id,
         CASE WHEN linked THEN format('audit stripe %s: row seq %s (audit id %s) has a hash that does not match '
                                      'its contents and predecessor: it was changed', stripe, seq, id)
              WHEN seq > prev_seq + 1 THEN format('audit stripe %s: rows seq %s to %s are missing (removed); the '
                                                   'next row is seq %s (audit id %s)', stripe, prev_seq + 1,
                                                   seq - 1, seq, id)
              ELSE format('audit stripe %s: row seq %s (audit id %s) repeats seq %s', stripe, seq, id, prev_seq)
         END AS detail
    FROM first_bad)
