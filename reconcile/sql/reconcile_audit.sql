-- reconcile --full: every audit chain stripe recomputed from seq 1 (every
-- row since 0011_audit_chain.sql), and its head in audit_chains compared
-- with its last row. Returns the findings (stripe, seq, audit id, detail;
-- the first failing row of each stripe, a head that is not its last row,
-- at most 100 chained-era rows without a chain), then one row (detail
-- NULL) with the number of rows verified.
WITH
upto AS (
  SELECT stripe, 9223372036854775807 AS seq FROM audit_chains
  UNION
  SELECT DISTINCT stripe, 9223372036854775807 FROM audit_log WHERE stripe IS NOT NULL),
\ir fragments/audit_walk.sql
, heads AS (
  SELECT u.stripe, c.stripe IS NOT NULL AS known, coalesce(c.seq, 0) AS head_seq,
         coalesce(c.hash, '\x'::bytea) AS head_hash, coalesce(p.last_seq, 0) AS last_seq,
         coalesce((SELECT hash FROM audit_log l WHERE l.stripe = u.stripe AND l.seq = p.last_seq ORDER BY l.id LIMIT 1),
                  '\x'::bytea) AS last_hash
    FROM upto u LEFT JOIN audit_chains c ON c.stripe = u.stripe LEFT JOIN per_stripe p ON p.stripe = u.stripe)
SELECT stripe, seq, id AS audit_id, detail, NULL::bigint AS verified FROM bad_detail
UNION ALL
SELECT h.stripe, h.last_seq, NULL,
       CASE WHEN NOT h.known THEN format('audit stripe %s has rows but no head in audit_chains', h.stripe)
            ELSE format('audit stripe %s: its head in audit_chains (seq %s) is not its last row (seq %s)',
                        h.stripe, h.head_seq, h.last_seq) END, NULL
  FROM heads h
 WHERE NOT h.known OR h.head_seq <> h.last_seq OR h.head_hash <> h.last_hash
UNION ALL
(SELECT a.stripe, a.seq, a.id,
        format('audit row %s has no chain hash (hash version 0) but was written after the chain began '
               '(audit id %s): it was inserted past the trigger', a.id, f.first_id), NULL
   FROM (SELECT min(id) AS first_id FROM walk WHERE seq = 1) f
   JOIN audit_log a ON a.id > f.first_id AND (a.stripe IS NULL OR a.seq IS NULL OR a.hash IS NULL OR a.hash_version = 0)
  ORDER BY a.id LIMIT 100)
UNION ALL
SELECT NULL, NULL, NULL, NULL, (SELECT count(*) FROM walk)
