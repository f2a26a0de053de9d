-- walletctl digest verify: the anchored audit stripes $1 (stripes), $2
-- (seqs), $3 (hex hashes, '' at seq 0). Each stripe's chain from seq 1 up
-- to its anchored seq is recomputed (fragments/audit_walk.sql) and must
-- end at the anchored hash. Returns the findings (stripe, seq, audit id,
-- detail), then one row (detail NULL) with the number of rows verified.
WITH
upto AS MATERIALIZED (
  SELECT u.stripe::smallint AS stripe, u.seq, decode(u.hash, 'hex') AS hash
    FROM unnest($1::integer[], $2::bigint[], $3::text[]) AS u(stripe, seq, hash)),
\ir fragments/audit_walk.sql
, ends AS (
  SELECT u.stripe, u.seq, coalesce(p.n, 0) AS n,
         (SELECT l.id FROM audit_log l WHERE l.stripe = u.stripe AND l.seq = u.seq ORDER BY l.id LIMIT 1) AS head_id,
         (u.seq = 0 OR u.hash IS NOT DISTINCT FROM
            (SELECT l.hash FROM audit_log l WHERE l.stripe = u.stripe AND l.seq = u.seq ORDER BY l.id LIMIT 1))
           AS head_ok
    FROM upto u LEFT JOIN per_stripe p ON p.stripe = u.stripe)
SELECT stripe, seq, id AS audit_id, detail, NULL::bigint AS verified FROM bad_detail
UNION ALL
SELECT e.stripe, e.seq, e.head_id,
       CASE WHEN e.n <> e.seq
            THEN format('audit stripe %s had %s rows at the anchor; %s of them remain', e.stripe, e.seq, e.n)
            ELSE format('audit stripe %s: the row at the anchored seq %s (audit id %s) no longer has the anchored '
                        'hash: rows up to it were rewritten', e.stripe, e.seq, e.head_id) END, NULL
  FROM ends e
 WHERE (e.n <> e.seq OR NOT e.head_ok) AND NOT EXISTS (SELECT FROM bad_detail b WHERE b.stripe = e.stripe)
UNION ALL
SELECT NULL, NULL, NULL, NULL, (SELECT count(*) FROM walk)
