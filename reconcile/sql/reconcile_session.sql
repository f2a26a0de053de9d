-- Who runs this reconcile, and where the incremental run starts: on a hot
-- standby (read-only: the checkpoint stays where it is); whether this login
-- may advance the checkpoint (a member of wallet_verifier, or the owner);
-- the entry high-water mark of the last clean run; and the highest entry
-- id this run's snapshot sees (the next high-water mark if it is clean).
SELECT pg_is_in_recovery() AS in_recovery,
       has_function_privilege('wallet_reconcile_save_wallets(bigint)', 'EXECUTE') AS verifier,
       coalesce((SELECT entry_id FROM reconcile_high_water), 0) AS high_water,
       (SELECT coalesce(max(id), 0) FROM ledger_entries) AS last_entry
