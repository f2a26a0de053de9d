-- Reconciliation's checkpoint (tables reconcile_wallets, reconcile_assets,
-- reconcile_runs of 0002_holds.sql, reconcile_high_water of
-- 0010_reconcile_verifier.sql), written by a clean run of walletctl
-- reconcile. These functions are granted to wallet_verifier only
-- (90_privileges.sql): the application cannot turn a failing incremental
-- run clean by saving a checkpoint itself.

-- Advances the per-wallet checkpoint: every wallet's version, balance and
-- last hash as the caller's snapshot sees them (the caller runs in
-- REPEATABLE READ, and so does this, in its transaction), and the entry
-- high-water mark to p_entry_id, the highest entry id that snapshot saw.
-- The mark never goes back.
CREATE OR REPLACE FUNCTION wallet_reconcile_save_wallets(p_entry_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_entry_id IS NULL OR p_entry_id < 0 THEN
        RAISE EXCEPTION 'the entry high-water mark must be an entry id (0 or more)' USING ERRCODE = '22023';
    END IF;
    INSERT INTO reconcile_wallets(wallet_id, version, balance, hash)
    SELECT w.id, w.version, w.balance, w.last_hash FROM wallets w
      LEFT JOIN reconcile_wallets r ON r.wallet_id = w.id
     WHERE r.wallet_id IS NULL OR r.version <> w.version OR r.balance <> w.balance OR r.hash <> w.last_hash
    ON CONFLICT (wallet_id) DO UPDATE SET version = EXCLUDED.version, balance = EXCLUDED.balance,
                                          hash = EXCLUDED.hash;
    INSERT INTO reconcile_high_water(entry_id) VALUES (p_entry_id)
    ON CONFLICT (singleton) DO UPDATE SET entry_id = greatest(reconcile_high_water.entry_id, EXCLUDED.entry_id);
END $$;

-- Advances an asset's checkpoint: the sum of its verified entries.
CREATE OR REPLACE FUNCTION wallet_reconcile_save_asset(p_asset text, p_entry_sum numeric) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO reconcile_assets(asset, entry_sum) VALUES (p_asset, p_entry_sum)
    ON CONFLICT (asset) DO UPDATE SET entry_sum = EXCLUDED.entry_sum
$$;

-- Records one run (full or incremental) and what it found.
CREATE OR REPLACE FUNCTION wallet_reconcile_record(p_full boolean, p_entries bigint, p_drift integer, p_stuck integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO reconcile_runs(full_run, entries, drift, stuck) VALUES (p_full, p_entries, p_drift, p_stuck)
$$;
