-- walletctl digest verify: audit rows with an id from the first chained
-- row $4 up to the anchor's highest audit id $5 that are not in the
-- anchored chains $1, $2, $3 (beyond their stripe's anchored seq, in a
-- stripe the anchor does not hold, or without a chain): written into the
-- anchored past, or by a transaction still running when the digest was
-- taken. The inserting transaction id (xmin, 32 bits) tells which.
-- Columns: audit id, stripe, seq, xmin. At most 1000.
WITH
upto AS MATERIALIZED (
  SELECT u.stripe::smallint AS stripe, u.seq
    FROM unnest($1::integer[], $2::bigint[], $3::text[]) AS u(stripe, seq, hash))
SELECT a.id, a.stripe, a.seq, a.xmin::text::bigint
  FROM audit_log a LEFT JOIN upto u ON u.stripe = a.stripe
 WHERE a.id >= $4 AND a.id <= $5 AND $4 > 0
   AND (a.seq IS NULL OR u.stripe IS NULL OR a.seq > u.seq)
 ORDER BY a.id LIMIT 1000
