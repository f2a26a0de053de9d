-- walletctl digest: the highest audit row id the snapshot sees, and the id
-- of the first chained row (the lowest at seq 1 of any stripe; 0 when
-- nothing is chained yet).
SELECT (SELECT coalesce(max(id), 0) FROM audit_log),
       (SELECT coalesce(min(a.id), 0) FROM audit_chains c
          JOIN audit_log a ON a.stripe = c.stripe AND a.seq = 1)
