-- Incremental run: entries written since the last clean run (id above the
-- high-water mark $1) that the per-wallet chain check cannot reach: on a
-- wallet that does not exist, or at a version the checkpoint had already
-- verified (an entry written into the verified past: a legitimate new
-- entry always continues its wallet beyond the checkpoint, since the
-- checkpoint and the mark are saved from one snapshot). At most 100.
SELECT e.id AS entry_id, e.wallet_id, e.transaction_id, e.version, e.amount::text AS amount, w.user_id, w.asset,
       r.version AS checkpoint_version
  FROM ledger_entries e
  LEFT JOIN wallets w ON w.id = e.wallet_id
  LEFT JOIN reconcile_wallets r ON r.wallet_id = e.wallet_id
 WHERE e.id > $1 AND (w.id IS NULL OR e.version <= r.version)
 ORDER BY e.id LIMIT 100
