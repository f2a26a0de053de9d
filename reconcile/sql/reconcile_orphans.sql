-- Full run: rows whose references lead nowhere. There are no foreign keys
-- on the ledger's hot tables (0006_hot_path.sql): only the entry points
-- write them, with ids of rows they hold locked, and nothing is ever
-- deleted; this finds what a bug or a hand-made row could leave. At most
-- 100 of each kind.
(SELECT e.wallet_id, e.transaction_id, NULL::text AS asset, e.amount::text AS amount,
        'ledger entry ' || e.id || ' is on wallet ' || e.wallet_id || ', which does not exist' AS detail
   FROM ledger_entries e LEFT JOIN wallets w ON w.id = e.wallet_id WHERE w.id IS NULL LIMIT 100)
UNION ALL
-- (The missing transaction ids first, from the two indexes alone.)
(SELECT e.wallet_id, e.transaction_id, w.asset, e.amount::text,
        'ledger entry ' || e.id || ' belongs to transaction ' || e.transaction_id || ', which does not exist'
   FROM (SELECT DISTINCT x.transaction_id FROM ledger_entries x
          WHERE NOT EXISTS (SELECT FROM transactions t WHERE t.id = x.transaction_id) LIMIT 100) m
   JOIN ledger_entries e ON e.transaction_id = m.transaction_id JOIN wallets w ON w.id = e.wallet_id
  LIMIT 100)
UNION ALL
(SELECT NULL, t.id, t.asset, t.amount::text,
        'transaction ' || t.id || ' refers to ' || concat_ws(', ',
          CASE WHEN d.id IS NULL THEN 'debit wallet ' || t.debit_wallet_id END,
          CASE WHEN c.id IS NULL THEN 'credit wallet ' || t.credit_wallet_id END,
          CASE WHEN a.code IS NULL THEN 'asset ' || t.asset END) || ', which does not exist'
   FROM transactions t LEFT JOIN wallets d ON d.id = t.debit_wallet_id
   LEFT JOIN wallets c ON c.id = t.credit_wallet_id LEFT JOIN assets a ON a.code = t.asset
  WHERE d.id IS NULL OR c.id IS NULL OR a.code IS NULL LIMIT 100)
UNION ALL
(SELECT NULL, t.id, t.asset, t.amount::text,
        'transaction ' || t.id || ' reverses transaction ' || t.reverses_id || ', which does not exist'
   FROM transactions t WHERE t.reverses_id IS NOT NULL
    AND NOT EXISTS (SELECT FROM transactions r WHERE r.id = t.reverses_id) LIMIT 100)
