-- Every wallet's chain head from the ledger itself (its entry of highest
-- version, not the wallet row's copy), in wallet id order.
SELECT w.id, coalesce(h.version, 0), coalesce(encode(h.hash, 'hex'), '')
  FROM wallets w
  LEFT JOIN LATERAL (SELECT e.version, e.hash FROM ledger_entries e WHERE e.wallet_id = w.id
                      ORDER BY e.version DESC LIMIT 1) h ON true
 ORDER BY w.id
