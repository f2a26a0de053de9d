-- The checkpoint and the entry high-water mark $1, written by the
-- verifier's functions (sql/functions/60_reconcile.sql).
SELECT wallet_reconcile_save_wallets($1)
