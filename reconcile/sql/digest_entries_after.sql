-- walletctl digest verify: entries written after the anchor (id above its
-- highest entry id $1).
SELECT count(*) FROM ledger_entries WHERE id > $1
