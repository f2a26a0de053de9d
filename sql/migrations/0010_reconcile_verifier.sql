-- 0010_reconcile_verifier: the incremental reconcile is driven by an entry
-- high-water mark as well as by the wallets that changed, and only the
-- verifier advances its checkpoint.
--
-- The highest ledger entry id a clean run has verified: the next
-- incremental run examines every entry above it, whether or not its
-- wallet's row changed (sql/functions/60_reconcile.sql).
CREATE TABLE reconcile_high_water (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    entry_id  bigint NOT NULL CHECK (entry_id >= 0)
);

-- The checkpoint saver takes the high-water mark now.
DROP FUNCTION wallet_reconcile_save_wallets();

-- A checkpoint saved before this release has no high-water mark to go
-- with it: start again from nothing, so the first incremental run after
-- the upgrade verifies every entry (as a full run does) and the ones after
-- it only what is new.
DELETE FROM reconcile_wallets;
DELETE FROM reconcile_assets;
