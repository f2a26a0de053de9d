-- walletctl digest: every audit chain stripe's head from the audit log
-- itself (its row of highest seq, not audit_chains' copy), in stripe
-- order: stripe, seq (0 without rows), hex hash ('' without rows).
SELECT c.stripe, coalesce(h.seq, 0), coalesce(encode(h.hash, 'hex'), '')
  FROM audit_chains c
  LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM audit_log a WHERE a.stripe = c.stripe
                      ORDER BY a.seq DESC LIMIT 1) h ON true
 ORDER BY c.stripe
